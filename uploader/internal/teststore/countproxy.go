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
			n.Add(1)
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go io.Copy(s, c)
				io.Copy(c, s)
			}()
		}
	}()
	return lis.Addr().String(), func() int { return int(n.Load()) }
}
