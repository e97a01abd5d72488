package teststore

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
)

// CountingProxy forwards TCP connections on a new 127.0.0.1 port to target
// and counts them: how many connections a client really opened.
func CountingProxy(t testing.TB, target string) (addr string, accepted func() int) {
	t.Helper()
	return listenProxy(t, func(c net.Conn, _ int) { forward(c, target) })
}

// BlackholeProxy forwards TCP connections on a new 127.0.0.1 port to target,
// except that the first one stops forwarding, both ways, once after bytes
// have gone towards target, and keeps both sockets open: a middlebox that
// lost its state. accepted counts the connections.
func BlackholeProxy(t testing.TB, target string, after int64) (addr string, accepted func() int) {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return listenProxy(t, func(c net.Conn, n int) {
		if n > 1 {
			forward(c, target)
			return
		}
		defer c.Close()
		s, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer s.Close()
		var cut atomic.Bool
		go func() { // towards the client, until the cut
			buf := make([]byte, 32<<10)
			for {
				k, err := s.Read(buf)
				if err != nil {
					return
				}
				if !cut.Load() {
					c.Write(buf[:k])
				}
			}
		}()
		io.CopyN(s, c, after)
		cut.Store(true)
		<-done // silent both ways until the test ends
	})
}

// listenProxy accepts TCP connections on a new 127.0.0.1 port until the test
// ends and hands each to serve with its number (from 1).
func listenProxy(t testing.TB, serve func(c net.Conn, n int)) (addr string, accepted func() int) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go serve(c, int(n.Add(1)))
		}
	}()
	return lis.Addr().String(), func() int { return int(n.Load()) }
}

// forward copies c to a new connection to target and back until either ends.
func forward(c net.Conn, target string) {
	defer c.Close()
	s, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer s.Close()
	go io.Copy(s, c)
	io.Copy(c, s)
}
