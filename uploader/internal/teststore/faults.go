package teststore

import (
	"context"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// faults holds the failures a test has asked for; each is used up once.
type faults struct {
	mu       sync.Mutex
	fail     map[string][]codes.Code // method -> codes to return, in order
	cutAfter []int64                 // cut the next streams after this many bytes
	put      []int                   // HTTP status codes for the next PUTs
	hang     map[string]int          // method -> calls to hang until the client gives up
	short    int                     // upload streams to answer with one byte fewer than received
	onBytes  []bytesHook
	lose     map[string]int // method -> calls to handle, then answer Unavailable
	onCall   map[string]func()
}

type bytesHook struct {
	n  int64
	fn func()
}

// OnBytes runs fn once, inside the next upload stream that reaches n bytes
// (to stage races: another client acting mid-upload).
func (s *Server) OnBytes(n int64, fn func()) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.onBytes = append(s.faults.onBytes, bytesHook{n, fn})
}

// OnCall runs fn once, when method is called next, before it is handled
// (to stage races: a file changed between the upload's hash pass, which
// InitiateUpload follows, and its send).
func (s *Server) OnCall(method string, fn func()) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.onCall == nil {
		s.faults.onCall = map[string]func(){}
	}
	s.faults.onCall[method] = fn
}

// FailNext makes the next len(codes) calls of method fail with those codes.
func (s *Server) FailNext(method string, cs ...codes.Code) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.fail == nil {
		s.faults.fail = map[string][]codes.Code{}
	}
	s.faults.fail[method] = append(s.faults.fail[method], cs...)
}

// LoseAnswers makes the next n calls of method take effect and then answer
// Unavailable, as a connection reset after the store committed does.
func (s *Server) LoseAnswers(method string, n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.lose == nil {
		s.faults.lose = map[string]int{}
	}
	s.faults.lose[method] += n
}

// lost says whether this call's answer is to be lost.
func (f *faults) lost(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lose[method] > 0 {
		f.lose[method]--
		return true
	}
	return false
}

// CutStreamAfter aborts the next upload stream once it has received n bytes.
func (s *Server) CutStreamAfter(n int64) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.cutAfter = append(s.faults.cutAfter, n)
}

// FailPUT answers the next signed-URL PUTs with these HTTP status codes.
func (s *Server) FailPUT(codes ...int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.put = append(s.faults.put, codes...)
}

// HangNext makes the next n calls of method block until the client cancels.
func (s *Server) HangNext(method string, n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.hang == nil {
		s.faults.hang = map[string]int{}
	}
	s.faults.hang[method] += n
}

// ShortNext makes the next n upload streams report one byte fewer than
// they received: a store (or proxy) that lost the end of an upload.
func (s *Server) ShortNext(n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.short += n
}

// reported is the size to report for an upload stream of n bytes.
func (f *faults) reported(n int) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.short > 0 {
		f.short--
		return uint64(n - 1)
	}
	return uint64(n)
}

func (f *faults) take(ctx context.Context, method string) error {
	f.mu.Lock()
	if fn := f.onCall[method]; fn != nil {
		delete(f.onCall, method)
		f.mu.Unlock()
		fn()
		f.mu.Lock()
	}
	if f.hang[method] > 0 {
		f.hang[method]--
		f.mu.Unlock()
		<-ctx.Done()
		return status.Error(codes.DeadlineExceeded, "hung")
	}
	cs := f.fail[method]
	if len(cs) == 0 {
		f.mu.Unlock()
		return nil
	}
	c := cs[0]
	f.fail[method] = cs[1:]
	f.mu.Unlock()
	return status.Errorf(c, "injected %s failure", c)
}

func (f *faults) afterBytes(n int64) error {
	f.mu.Lock()
	if len(f.onBytes) > 0 && n >= f.onBytes[0].n {
		h := f.onBytes[0]
		f.onBytes = f.onBytes[1:]
		f.mu.Unlock()
		h.fn()
		f.mu.Lock()
	}
	defer f.mu.Unlock()
	if len(f.cutAfter) > 0 && n >= f.cutAfter[0] {
		f.cutAfter = f.cutAfter[1:]
		return status.Error(codes.Unavailable, "injected stream cut")
	}
	return nil
}

func (f *faults) takePUT() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.put) == 0 {
		return 0
	}
	c := f.put[0]
	f.put = f.put[1:]
	return c
}
