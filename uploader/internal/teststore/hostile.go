package teststore

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Listener is a hostile TCP endpoint on 127.0.0.1 that counts the
// connections it accepted.
type Listener struct {
	lis      net.Listener
	accepted atomic.Int32
	mu       sync.Mutex
	conns    []net.Conn
}

// Addr is the listener's host:port.
func (l *Listener) Addr() string { return l.lis.Addr().String() }

// Accepted is how many connections came in so far.
func (l *Listener) Accepted() int { return int(l.accepted.Load()) }

func listen(t testing.TB, serve func(l *Listener, c net.Conn)) *Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{lis: lis}
	t.Cleanup(func() {
		lis.Close()
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, c := range l.conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			l.accepted.Add(1)
			l.mu.Lock()
			l.conns = append(l.conns, c)
			l.mu.Unlock()
			go serve(l, c)
		}
	}()
	return l
}

// ResetFirst resets the first n connections as soon as they are accepted
// (RST, before any byte: a load balancer whose backend is restarting) and
// forwards later ones to target.
func ResetFirst(t testing.TB, n int, target string) *Listener {
	return listen(t, func(l *Listener, c net.Conn) {
		if int(l.accepted.Load()) <= n || target == "" {
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		go func() { io.Copy(up, c); up.Close() }()
		io.Copy(c, up)
		c.Close()
	})
}

// Hang accepts connections, reads what is sent and never answers.
func Hang(t testing.TB) *Listener {
	return listen(t, func(l *Listener, c net.Conn) { io.Copy(io.Discard, c) })
}
