package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

var fastRetry = store.Retry{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond}

func object(t *testing.T, size int) (store.Object, []byte) {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	p := filepath.Join(t.TempDir(), "obj")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return fileObject(p, int64(size), hex.EncodeToString(sum[:])), data
}

// open opens the store at addr, closed when the test ends.
func open(t *testing.T, addr string, cfg store.Config) store.Store {
	t.Helper()
	s, err := store.Open(addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client is a plaintext client of srv with fast retries; tune changes that.
func client(t *testing.T, srv *teststore.Server, tune ...func(*store.Config)) store.Store {
	t.Helper()
	cfg := store.Config{Insecure: true, Retry: fastRetry}
	for _, f := range tune {
		f(&cfg)
	}
	return open(t, srv.Addr(), cfg)
}

var key = store.Key{BuildID: "0123456789abcdef", BuildIDType: pb.BuildIDType_BUILD_ID_TYPE_GNU}

func TestUploadBothStrategies(t *testing.T) {
	for _, signed := range []bool{false, true} {
		t.Run(map[bool]string{false: "grpc", true: "signed-url"}[signed], func(t *testing.T) {
			srv := teststore.Start(t, teststore.Options{SignedURL: signed})
			g := client(t, srv)
			obj, data := object(t, 3*store.ChunkSize+123)
			ctx := context.Background()
			should, reason, err := g.ShouldUpload(ctx, key, false)
			if err != nil || !should {
				t.Fatalf("ShouldUpload = %v %q %v", should, reason, err)
			}
			var sent int64
			if err := g.Upload(ctx, key, obj, false, func(n int64) { sent += n }); err != nil {
				t.Fatal(err)
			}
			got, ok := srv.Uploaded(key.BuildID, key.Type)
			if !ok || !bytes.Equal(got, data) {
				t.Fatalf("stored %d bytes (ok=%v), want %d identical", len(got), ok, len(data))
			}
			if sent != obj.Size {
				t.Errorf("progress saw %d bytes, want %d", sent, obj.Size)
			}
			if _, st := srv.State(key.BuildID, key.Type); st != pb.BuildIDType_BUILD_ID_TYPE_GNU {
				t.Errorf("build_id_type stored as %v", st)
			}
			if should, _, _ := g.ShouldUpload(ctx, key, false); should {
				t.Error("store still wants the build ID after upload")
			}
			if should, _, _ := g.ShouldUpload(ctx, key, true); !should {
				t.Error("force did not make the store want it again")
			}
		})
	}
}

func TestCutStreamIsRetriedWithForce(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv)
	obj, data := object(t, 4*store.ChunkSize)
	srv.CutStreamAfter(2 * store.ChunkSize)
	if err := g.Upload(context.Background(), key, obj, false, nil); err != nil {
		t.Fatalf("upload after a cut stream: %v", err)
	}
	got, ok := srv.Uploaded(key.BuildID, key.Type)
	if !ok || !bytes.Equal(got, data) {
		t.Fatal("stored bytes differ after retry")
	}
	if n := srv.Calls("InitiateUpload"); n != 2 {
		t.Errorf("InitiateUpload called %d times, want 2 (the retry re-initiates with force)", n)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv)
	obj, _ := object(t, 1000)
	srv.FailNext("ShouldInitiateUpload", codes.Unavailable, codes.ResourceExhausted)
	srv.FailNext("MarkUploadFinished", codes.Unavailable)
	ctx := context.Background()
	if should, _, err := g.ShouldUpload(ctx, key, false); err != nil || !should {
		t.Fatalf("ShouldUpload = %v, %v", should, err)
	}
	if err := g.Upload(ctx, key, obj, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Uploaded(key.BuildID, key.Type); !ok {
		t.Fatal("not uploaded")
	}
}

func TestPermanentFailuresAreNotRetried(t *testing.T) {
	for _, c := range []struct {
		code codes.Code
		want string
	}{
		{codes.Unauthenticated, "wants a token"}, // no credentials given
		{codes.PermissionDenied, "Debug Info Writer"},
		{codes.InvalidArgument, "refused"},
	} {
		srv := teststore.Start(t, teststore.Options{})
		g := client(t, srv)
		srv.FailNext("ShouldInitiateUpload", c.code)
		_, _, err := g.ShouldUpload(context.Background(), key, false)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want it to mention %q", c.code, err, c.want)
		}
		if n := srv.Calls("ShouldInitiateUpload"); n != 1 {
			t.Errorf("%v: %d calls, want 1 (no retry)", c.code, n)
		}
	}
}

func TestSizeLimitFailsClearlyAndMarksNothing(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{MaxUploadSize: 1000})
	g := client(t, srv)
	obj, _ := object(t, 2000)
	err := g.Upload(context.Background(), key, obj, false, nil)
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v, want a size-limit message", err)
	}
	if n := srv.Calls("InitiateUpload"); n != 1 {
		t.Errorf("InitiateUpload called %d times, want 1", n)
	}
	if _, ok := srv.Uploaded(key.BuildID, key.Type); ok {
		t.Error("object marked uploaded")
	}
}

func TestSignedURLServerErrorsAreRetried(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{SignedURL: true})
	g := client(t, srv)
	obj, data := object(t, 5000)
	srv.FailPUT(500, 503)
	if err := g.Upload(context.Background(), key, obj, false, nil); err != nil {
		t.Fatal(err)
	}
	if got, ok := srv.Uploaded(key.BuildID, key.Type); !ok || !bytes.Equal(got, data) {
		t.Fatal("not stored intact")
	}
}

func TestSignedURLClientErrorIsPermanent(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{SignedURL: true})
	g := client(t, srv)
	obj, _ := object(t, 5000)
	srv.FailPUT(403)
	err := g.Upload(context.Background(), key, obj, false, nil)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "signature=") {
		t.Errorf("error leaks the signed URL: %v", err)
	}
	if _, ok := srv.Uploaded(key.BuildID, key.Type); ok {
		t.Error("marked uploaded")
	}
}

func TestHungStoreTimesOut(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv, func(c *store.Config) { c.CallTimeout, c.Retry.Attempts = 50*time.Millisecond, 2 })
	srv.HangNext("ShouldInitiateUpload", 5)
	start := time.Now()
	_, _, err := g.ShouldUpload(context.Background(), key, false)
	if err == nil {
		t.Fatal("no error from a hung store")
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestConcurrentUploadersOfOneBuildID(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	obj, data := object(t, 8*store.ChunkSize)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		g := client(t, srv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.Upload(context.Background(), key, obj, false, nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var sk *store.Skipped
		switch {
		case err == nil:
			ok++
		case errors.As(err, &sk):
		default:
			t.Errorf("uploader failed: %v", err)
		}
	}
	if ok < 1 {
		t.Fatal("neither uploader succeeded")
	}
	if got, stored := srv.Uploaded(key.BuildID, key.Type); !stored || !bytes.Equal(got, data) {
		t.Fatal("stored file not intact")
	}
}

func TestFileStoreLayoutAndSkip(t *testing.T) {
	dir := t.TempDir()
	fs, err := store.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	obj, data := object(t, 10000)
	ctx := context.Background()
	if should, _, _ := fs.ShouldUpload(ctx, key, false); !should {
		t.Fatal("empty store does not want the object")
	}
	if err := fs.Upload(ctx, key, obj, false, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "debuginfo", key.BuildID, "debuginfo"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored object: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "debuginfo", key.BuildID, "metadata"))
	if err != nil {
		t.Fatal(err)
	}
	var m pb.Debuginfo
	if err := protojson.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Upload.State != pb.DebuginfoUpload_STATE_UPLOADED || m.Upload.Hash != obj.Hash || m.BuildId != key.BuildID {
		t.Errorf("metadata = %v", &m)
	}
	if should, _, _ := fs.ShouldUpload(ctx, key, false); should {
		t.Error("file store wants an uploaded object again")
	}
	if should, _, _ := fs.ShouldUpload(ctx, key, true); !should {
		t.Error("force ignored")
	}
	if _, err := store.NewFile("relative/dir"); err == nil {
		t.Error("relative file store path accepted")
	}
	bad := key
	bad.BuildID = "../../etc"
	if _, _, err := fs.ShouldUpload(ctx, bad, false); err == nil {
		t.Error("build ID with path separators accepted")
	}
}

func TestSupersededUploadIsASkip(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv)
	rival := rawClient(t, srv)
	obj, _ := object(t, 4*store.ChunkSize)
	// The rival re-initiates with force while our stream is in flight; the
	// store then answers our stream with "upload ID does not match".
	srv.OnBytes(store.ChunkSize, func() {
		if _, err := rival.InitiateUpload(context.Background(), &pb.InitiateUploadRequest{
			BuildId: key.BuildID, Size: obj.Size, Hash: obj.Hash, Force: true,
		}); err != nil {
			t.Errorf("rival initiate: %v", err)
		}
	})
	err := g.Upload(context.Background(), key, obj, false, nil)
	var sk *store.Skipped
	if !errors.As(err, &sk) || !strings.Contains(sk.Reason, "took this build ID over") {
		t.Fatalf("err = %v, want a skip", err)
	}
	if n := srv.Calls("InitiateUpload"); n != 2 {
		t.Errorf("InitiateUpload calls = %d, want 2 (ours, the rival's; no forced retry)", n)
	}
}

// TestFileStoreRemovesStaleTemps: a copy killed mid-way (kill -9) leaves
// its temp object behind; the next upload of that build ID removes it,
// but not the temp of a writer that is still running (it holds a lock).
func TestFileStoreRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	fs, err := store.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	objDir := filepath.Join(dir, "debuginfo", key.BuildID)
	if err := os.MkdirAll(objDir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	temp := func(name string) string {
		p := filepath.Join(objDir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := temp(".debuginfo.tmp-1234567")
	staleMeta := temp(".metadata.tmp-7654321")
	live := temp(".debuginfo.tmp-live")
	lf, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}

	obj, data := object(t, 10000)
	if err := fs.Upload(context.Background(), key, obj, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{stale, staleMeta} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("stale temp %s left behind (%v)", filepath.Base(p), err)
		}
	}
	if _, err := os.Lstat(live); err != nil {
		t.Errorf("the temp of a live writer was removed: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(objDir, "debuginfo")); !bytes.Equal(got, data) {
		t.Error("object not stored intact")
	}
}

// A stream the store drops after bytes went out, on every attempt, is
// explained as what it usually is: a server-side limit on one request's
// time (Parca's --http-read-timeout, 5s by default), not a wrong address.
// A stream refused before any byte keeps the plain explanation.
func TestStreamDroppedMidUploadNamesTheStoresTimeLimit(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv, func(c *store.Config) {
		c.Retry = store.Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}
	})
	obj, _ := object(t, 3*store.ChunkSize)
	store.CutOffAfter(t, 0) // the test store cuts at once, not after seconds
	srv.CutStreamAfter(store.ChunkSize)
	srv.CutStreamAfter(store.ChunkSize)
	err := g.Upload(context.Background(), key, obj, false, nil)
	if err == nil || !strings.Contains(err.Error(), "dropped the upload; every attempt was") ||
		!strings.Contains(err.Error(), "MiB into it") || !strings.Contains(err.Error(), "--http-read-timeout") {
		t.Fatalf("upload cut on every attempt: %v", err)
	}
	if status.Code(err) != codes.Unavailable {
		t.Errorf("status code %v, want Unavailable kept", status.Code(err))
	}

	store.CutOffAfter(t, time.Second) // the default: a refusal at the start comes at once
	srv.FailNext("Upload", codes.Unavailable, codes.Unavailable)
	err = g.Upload(context.Background(), key, obj, true, nil)
	if err == nil || strings.Contains(err.Error(), "dropped the upload") || !strings.Contains(err.Error(), "store unavailable") {
		t.Fatalf("upload refused before its first byte: %v", err)
	}
}

// An InitiateUpload that took effect but whose answer was lost leaves the
// build ID "in progress" for us: the retry must take it over (force), not
// be refused as if another uploader held it and reported skipped with
// nothing stored. Parca does this after a reset or a slow answer.
func TestLostInitiateAnswerIsTakenOver(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv)
	obj, data := object(t, 2*store.ChunkSize)
	srv.LoseAnswers("InitiateUpload", 1)
	if err := g.Upload(context.Background(), key, obj, false, nil); err != nil {
		t.Fatalf("upload after a lost InitiateUpload answer: %v", err)
	}
	if got, ok := srv.Uploaded(key.BuildID, key.Type); !ok || !bytes.Equal(got, data) {
		t.Fatal("nothing, or other bytes, stored")
	}
	if n := srv.Calls("InitiateUpload"); n != 2 {
		t.Errorf("InitiateUpload called %d times, want 2", n)
	}
}

// A MarkUploadFinished answer lost after it took effect: the upload is
// finished on the store, so the run must not fail it.
func TestLostMarkFinishedAnswer(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv)
	obj, data := object(t, 1000)
	srv.LoseAnswers("MarkUploadFinished", 1)
	err := g.Upload(context.Background(), key, obj, false, nil)
	got, ok := srv.Uploaded(key.BuildID, key.Type)
	if !ok || !bytes.Equal(got, data) {
		t.Fatalf("not stored: %v", err)
	}
	if err != nil {
		t.Errorf("upload reported %v although the store finished it", err)
	}
}

// A store that takes the upload stream and never answers, while answering
// every other call: after three uploads in a row run out of time, the rest
// of the run fails at once instead of each waiting its whole --timeout.
func TestStoreThatNeverFinishesUploadsIsGivenUp(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv)
	obj, _ := object(t, 1000)
	srv.HangNext("Upload", 100)
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := g.Upload(ctx, key, obj, true, nil)
		cancel()
		if err == nil {
			t.Fatalf("upload %d succeeded against a hanging store", i)
		}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := g.Upload(ctx, key, obj, true, nil)
	if err == nil || !strings.Contains(err.Error(), "store not finishing uploads: 3 in a row ran out of time") {
		t.Fatalf("fourth upload: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the fourth upload took %v: it should fail at once", d)
	}
}

// A signed URL that is no http(s) URL with a host fails at once (asking the
// store again gives the same URL), and the message never repeats it: its
// query is the signature.
func TestBadSignedURLFailsAtOnceWithoutRepeatingIt(t *testing.T) {
	for _, tc := range []struct{ base, want string }{
		{"file://", `scheme "file"`},
		{"ftp://h.example", `scheme "ftp"`},
		{"http://", "names no host"},
		{"http://[::1", "not a valid URL"},
	} {
		srv := teststore.Start(t, teststore.Options{SignedURL: true, SignedURLBase: tc.base})
		g := client(t, srv)
		obj, _ := object(t, 1000)
		err := g.Upload(context.Background(), key, obj, false, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "upload/") || strings.Contains(err.Error(), "build_id=") {
			t.Errorf("signed URL base %q: %v", tc.base, err)
		}
		if n := srv.Calls("InitiateUpload"); n != 1 {
			t.Errorf("signed URL base %q: InitiateUpload called %d times, want 1 (no retry)", tc.base, n)
		}
	}
}

// A user name or password in the address (review s12-auto, finding 2) is
// refused before anything dials, and no message repeats it: the address is
// printed in messages, Make's log and its stamp directory names. A path
// after host:port was retried for 12 s as if the store were down.
func TestStoreAddressCredentialsAndPathsAreRefused(t *testing.T) {
	const pw = "notarealpassword"
	for in, want := range map[string]string{
		"https://u:" + pw + "@127.0.0.1:7070": "must not hold a user name or password",
		"u:" + pw + "@127.0.0.1:7070":         "must not hold a user name or password",
		pw + "@grpc.example.com:443":          "must not hold a user name or password",
		"grpc://u:" + pw + "@h:1/x":           "must not hold a user name or password",
		"dns://u:" + pw + "@8.8.8.8/h:1":      "must not hold a user name or password",
		"dns:///u:" + pw + "@h:1":             "must not hold a user name or password",
		"127.0.0.1:7070/x":                    "without a path, query or fragment: use 127.0.0.1:7070",
		"127.0.0.1:7070/":                     "without a path, query or fragment: use 127.0.0.1:7070",
		"dns:///grpc.example.com:443/upload":  "without a path, query or fragment: use grpc.example.com:443",
		"https://grpc.example.com:443/" + pw:  "not a URL: use grpc.example.com:443",
		// review s12-r3
		" 127.0.0.1:7070":  "holds spaces or line breaks",
		"127.0.0.1:7070\n": "holds spaces or line breaks",
		"h:1 " + pw:        "holds spaces or line breaks",
		// review s12-r2, findings 2 and 5
		"127.0.0.1:7070?key=" + pw:       "without a path, query or fragment: use 127.0.0.1:7070",
		"127.0.0.1:7070#" + pw:           "without a path, query or fragment: use 127.0.0.1:7070",
		"dns:///127.0.0.1:7070?" + pw:    "without a path, query or fragment: use 127.0.0.1:7070",
		"file://u:" + pw + "@/tmp/store": "want file:///absolute/dir, with no host, user, query or fragment",
		"file:///tmp/store?x=" + pw:      "want file:///absolute/dir, with no host, user, query or fragment",
		"file:///tmp/store#" + pw:        "want file:///absolute/dir, with no host, user, query or fragment",
		"FILE:///tmp/" + pw:              "in lower case: file:///absolute/dir",
	} {
		err := store.CheckAddress(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckAddress(%q) = %v, want %q", in, err, want)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("CheckAddress(%q) repeats the password: %v", in, err)
		}
		if _, err := store.Open(in, store.Config{Insecure: true}); err == nil || strings.Contains(err.Error(), pw) {
			t.Errorf("Open(%q) = %v, want the same refusal", in, err)
		}
	}
}

// A pasted web address fails at once, naming the host:port to use, instead
// of seconds of retries blamed on name resolution or "too many colons".
func TestStoreAddressURLIsRefused(t *testing.T) {
	for in, want := range map[string]string{
		"https://grpc.polarsignals.com":  "use grpc.polarsignals.com:443",
		"HTTPS://127.0.0.1:7070/x?y":     "use 127.0.0.1:7070",
		"http://[::1]":                   "use [::1]:80",
		"https://grpc.example.com:8443/": "use grpc.example.com:8443",
		"grpc://grpc.example.com":        "use grpc.example.com:443",
		"grpcs://10.0.0.5:7070":          "use 10.0.0.5:7070",
	} {
		_, err := store.Open(in, store.Config{})
		if err == nil || !strings.Contains(err.Error(), "takes host:port, not a URL: "+want) {
			t.Errorf("Open(%q) = %v, want %q", in, err, want)
		}
	}
	// gRPC's own target schemes still work.
	for _, in := range []string{"dns:///grpc.example.com:443", "unix:///tmp/store.sock", "passthrough:///127.0.0.1:7070",
		"dns://8.8.8.8/grpc.example.com:443", "unix:///tmp/a@b.sock", "[::1]:7070", "unix:/tmp/store.sock", "unix-abstract:store"} {
		if s, err := store.Open(in, store.Config{Insecure: true}); err != nil {
			t.Errorf("Open(%q) = %v", in, err)
		} else {
			s.Close()
		}
	}
}
