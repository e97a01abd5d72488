package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

// ChunkSize is the gRPC upload chunk: 1 MiB measured fastest against Parca
// on loopback, well under its 64 MiB message cap.
const ChunkSize = 1 << 20

// grpcStore is a Store speaking to a DebuginfoService.
type grpcStore struct {
	conn    *grpc.ClientConn
	release func() // set when conn is a Pool's: Close returns it instead of closing it
	client  pb.DebuginfoServiceClient
	http    *http.Client
	address string // as given, for messages
	proxy   string // the proxy's host:port when gRPC goes through one
	cfg     Config // with defaults filled in

	// down holds the error that made one file give up on an unreachable
	// store; later files fail with it at once instead of each spending a
	// whole retry cycle (a run over 5,000 files would take hours).
	down atomic.Pointer[error]
	// timeouts counts calls in a row that got no answer in time.
	timeouts atomic.Int32
	// stalls counts uploads in a row that ran out of time: a store (or
	// signed-URL host) that takes bytes and never answers still answers
	// the calls around them, and would cost every file its whole --timeout.
	stalls atomic.Int32
	// answered is set once any call got the store's answer: a store that
	// fails later is up but failing, not unreachable.
	answered atomic.Bool
	// gzipRefused is set once the store answered that it lacks the gzip
	// decompressor: the rest of the run sends uncompressed at once.
	gzipRefused atomic.Bool
	// plainURLTold is set once Warn was told of a plain http:// signed URL.
	plainURLTold atomic.Bool
}

// gRPC message compressions of the Upload stream (--grpc-compression).
const (
	NoCompression   = "none"
	GzipCompression = gzip.Name
)

// ParseCompression reads a --grpc-compression value.
func ParseCompression(s string) (string, error) {
	switch s {
	case NoCompression, GzipCompression:
		return s, nil
	}
	return "", fmt.Errorf("--grpc-compression=%q: want %s or %s", s, NoCompression, GzipCompression)
}

// defaultCallTimeout bounds one unary call unless Config says otherwise.
const defaultCallTimeout = 30 * time.Second

func openGRPC(address string, cfg Config) (*grpcStore, error) {
	var (
		conn    *grpc.ClientConn
		release func()
		err     error
	)
	if cfg.Pool != nil {
		conn, release, err = cfg.Pool.lease(address, cfg)
	} else {
		conn, err = dial(address, cfg, perRPC(cfg.Creds))
	}
	if err != nil {
		return nil, err
	}
	cfg.Retry = cfg.Retry.orDefault()
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = defaultCallTimeout
	}
	return &grpcStore{conn: conn, release: release, client: pb.NewDebuginfoServiceClient(conn), http: signedURLClient(), address: address, proxy: proxyFor(address), cfg: cfg}, nil
}

// Close closes the connection, or gives a pooled one back to its Pool,
// open, for the next Open.
func (g *grpcStore) Close() error {
	if g.release != nil {
		g.release()
		return nil
	}
	return g.conn.Close()
}

// MarksInProgress: Parca keeps an interrupted upload "in progress".
func (g *grpcStore) MarksInProgress() bool { return true }

func (g *grpcStore) unary(ctx context.Context, f func(ctx context.Context) error) error {
	if down := g.down.Load(); down != nil {
		return &givenUp{*down}
	}
	err := g.cfg.Retry.do(ctx, func(attempt int) error {
		if down := g.down.Load(); down != nil {
			return &final{&givenUp{*down}} // another file gave up meanwhile
		}
		if attempt > 0 {
			// A retry reconnects now, not when gRPC's own reconnect backoff
			// (which grows to two minutes) would: our backoff already waited.
			g.conn.ResetConnectBackoff()
		}
		cctx, cancel := context.WithTimeout(ctx, g.cfg.CallTimeout)
		defer cancel()
		err := f(cctx)
		if err == nil {
			g.answered.Store(true)
		}
		if err == nil || status.Code(err) != codes.DeadlineExceeded {
			g.timeouts.Store(0) // the store answered
		}
		switch {
		case status.Code(err) == codes.DeadlineExceeded && ctx.Err() != context.Canceled:
			// No answer in time: a few of these in a row, across all files,
			// and the store is given up on, as an unreachable one is.
			if n := g.timeouts.Add(1); n >= maxTimeouts {
				down := fmt.Errorf("store not answering: %d calls in a row got no answer in time; giving up on it for this run", n)
				g.down.CompareAndSwap(nil, &down)
			}
		}
		if hint := tlsEvidence(ctx, err, g.address, g.cfg.Insecure); hint != "" {
			return &final{&hinted{hint, err}}
		}
		return err
	})
	// Out of retries or out of time, the store was still unreachable.
	var gu *givenUp
	if status.Code(err) == codes.Unavailable && !errors.As(err, &gu) {
		g.down.CompareAndSwap(nil, &err)
	}
	return err
}

// maxTimeouts is how many calls in a row may go unanswered before the
// store is given up on: with the defaults one file already tries 6 times
// for 30 s each, and a run of many files would wait that long per file.
const maxTimeouts = 3

// tlsEvidence says what to change when err (from a call to target) comes from
// a TLS mismatch, "" when it does not. The handshake's own errors tell for
// TLS connections; a plaintext connection (insecure) cut before gRPC
// started is only blamed on TLS when target really completes a TLS
// handshake: a store that is restarting cuts connections too.
func tlsEvidence(ctx context.Context, err error, target string, insecure bool) string {
	if err == nil {
		return ""
	}
	if hint := tlsHint(err); hint != "" || !insecure || status.Code(err) != codes.Unavailable {
		return hint
	}
	if !strings.Contains(err.Error(), "server preface") {
		return ""
	}
	if speaksTLS(ctx, target) {
		return "the store speaks TLS: drop --insecure"
	}
	if speaksHTTP1(ctx, target) {
		return "the address answers in HTTP/1, not gRPC (HTTP/2): it is a web port, or a proxy that does not pass HTTP/2 on; give the store's gRPC address"
	}
	return ""
}

// speaksHTTP1 says whether target answers HTTP/2's connection preface with
// an HTTP/1 status line, as a web server or an HTTP/1-only proxy does.
func speaksHTTP1(ctx context.Context, target string) bool {
	target = strings.TrimPrefix(target, "dns:///")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return false
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if _, err := io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"); err != nil {
		return false
	}
	b := make([]byte, 8)
	n, _ := io.ReadFull(c, b)
	return strings.HasPrefix(string(b[:n]), "HTTP/1.") || strings.HasPrefix(string(b[:n]), "HTTP/0.")
}

// speaksTLS says whether a TLS handshake with target succeeds: the evidence
// that a plaintext connection was refused because the store wants TLS.
func speaksTLS(ctx context.Context, target string) bool {
	target = strings.TrimPrefix(target, "dns:///")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}
	c, err := d.DialContext(ctx, "tcp", target)
	if err == nil {
		c.Close()
		return true
	}
	var alert tls.AlertError // a TLS server that refused us (a client certificate, a version)
	return errors.As(err, &alert)
}

func (g *grpcStore) ShouldUpload(ctx context.Context, key Key, force bool) (bool, string, error) {
	if err := key.Check(); err != nil {
		return false, "", err
	}
	var resp *pb.ShouldInitiateUploadResponse
	err := g.unary(ctx, func(ctx context.Context) (err error) {
		resp, err = g.client.ShouldInitiateUpload(ctx, &pb.ShouldInitiateUploadRequest{
			BuildId: key.BuildID, BuildIdType: key.BuildIDType, Type: key.Type, Force: force,
		})
		return err
	})
	if err != nil {
		return false, "", g.explain(ctx, err)
	}
	// The reason is printed once per file: a store's megabytes would flood the log.
	return resp.ShouldInitiateUpload, clip(resp.Reason), nil
}

// Upload initiates, sends and finishes one object. When the bytes do not
// arrive (a cut stream, a restarted server) the whole upload is started
// again with force: the "upload in progress" state our own dead attempt
// left behind must not turn the retry into a skip.
func (g *grpcStore) Upload(ctx context.Context, key Key, obj Object, force bool, progress Progress) error {
	if err := key.Check(); err != nil {
		return err
	}
	// unanswered: an InitiateUpload of ours may have taken effect without
	// its answer reaching us (a reset after the store committed, a reply
	// past the call timeout). The store then holds the build ID "in
	// progress" for us, and asking again without force would be refused as
	// if another uploader held it: a silent skip with nothing stored.
	unanswered := false
	err := g.cfg.Retry.do(ctx, func(attempt int) error {
		forceNow := force || attempt > 0
		var ins *pb.UploadInstructions
		err := g.unary(ctx, func(ctx context.Context) error {
			resp, err := g.client.InitiateUpload(ctx, &pb.InitiateUploadRequest{
				BuildId: key.BuildID, BuildIdType: key.BuildIDType, Type: key.Type,
				Size: obj.Size, Hash: obj.Hash, Force: forceNow || unanswered,
			})
			if err != nil {
				unanswered = unanswered || mayHaveTakenEffect(err)
				return err
			}
			ins = resp.UploadInstructions
			return nil
		})
		if err != nil {
			return &final{initiateError(err, attempt)}
		}
		switch ins.GetUploadStrategy() {
		case pb.UploadInstructions_UPLOAD_STRATEGY_GRPC:
			err = g.stream(ctx, key, ins.UploadId, obj, progress)
		case pb.UploadInstructions_UPLOAD_STRATEGY_SIGNED_URL:
			err = g.put(ctx, ins.SignedUrl, obj, progress)
		default:
			return fmt.Errorf("store offered no upload strategy (%v)", ins.GetUploadStrategy())
		}
		if err != nil {
			return supersededOr(err)
		}
		// Only now, with every byte stored, is the upload marked finished.
		err = g.unary(ctx, func(ctx context.Context) error {
			_, err := g.client.MarkUploadFinished(ctx, &pb.MarkUploadFinishedRequest{
				BuildId: key.BuildID, UploadId: ins.UploadId, Type: key.Type,
			})
			return err
		})
		if err != nil {
			return &final{supersededOr(err)}
		}
		return nil
	})
	switch {
	case err == nil:
		g.stalls.Store(0)
	case ctx.Err() == context.DeadlineExceeded:
		if n := g.stalls.Add(1); n >= maxTimeouts {
			down := fmt.Errorf("store not finishing uploads: %d in a row ran out of time (--timeout); giving up on it for this run", n)
			g.down.CompareAndSwap(nil, &down)
		}
	}
	var sk *Skipped
	if errors.As(err, &sk) {
		return err
	}
	return g.explain(ctx, err)
}

// mayHaveTakenEffect says whether a call that failed with err may still
// have been carried out: the store did not refuse it, the answer was lost.
func mayHaveTakenEffect(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Unknown, codes.Internal, codes.Aborted:
		return true
	}
	return false
}

// initiateError turns the store's refusals at initiation into skips.
func initiateError(err error, attempt int) error {
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.AlreadyExists:
		return &Skipped{Reason: "the store already has these exact bytes (marked invalid there)"}
	case codes.FailedPrecondition:
		if attempt == 0 {
			// Another uploader holds the build ID, or it was uploaded since
			// we asked: either way this process has nothing left to do. The
			// store's words tell which (Parca: "... still in-progress ...").
			m := strings.ToLower(st.Message())
			if strings.Contains(m, "in-progress") || strings.Contains(m, "in progress") {
				return &Skipped{Reason: "another upload of this build ID is in progress (the store said so as this one began)", InProgress: true}
			}
			return &Skipped{Reason: "another upload of this build ID is in progress or finished meanwhile"}
		}
	}
	return err
}

// supersededOr recognises the store's answer when another uploader
// re-initiated the same build ID after us (Parca does not lock between its
// check and its mark, so two can start at once): that process now owns the
// object and finishes it, so ours is a skip, not a failure, and must not be
// forced back (that would make the other one fail).
func supersededOr(err error) error {
	st, ok := status.FromError(err)
	if ok && st.Code() == codes.InvalidArgument {
		m := strings.ToLower(st.Message())
		if strings.Contains(m, "upload id does not match") || strings.Contains(m, "upload id mismatch") {
			return &final{&Skipped{Reason: "another uploader took this build ID over (the store replaced our upload ID); it finishes the upload"}}
		}
	}
	return err
}

// stream sends obj over the Upload stream, gzip-compressed when asked and
// the store has not refused that yet. A store without the decompressor
// refuses the stream before its handler reads a byte, so the same upload
// ID takes the uncompressed resend.
func (g *grpcStore) stream(ctx context.Context, key Key, uploadID string, obj Object, progress Progress) error {
	if g.cfg.Compression == GzipCompression && !g.gzipRefused.Load() {
		err := g.send(ctx, key, uploadID, obj, progress, grpc.UseCompressor(gzip.Name))
		if !lacksDecompressor(err) {
			return err
		}
		g.gzipRefused.Store(true)
	}
	return g.send(ctx, key, uploadID, obj, progress)
}

// lacksDecompressor recognises a store's refusal of a compressed stream:
// grpc-go answers Unimplemented "grpc: Decompressor is not installed for
// grpc-encoding", grpc-java Unimplemented "Can't find decompressor for".
// Other Unimplemented answers (a signed-URL-only store) are not this.
func lacksDecompressor(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Unimplemented && strings.Contains(strings.ToLower(st.Message()), "decompressor")
}

func (g *grpcStore) send(ctx context.Context, key Key, uploadID string, obj Object, progress Progress, opts ...grpc.CallOption) error {
	f, err := obj.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := g.client.Upload(sctx, append(opts, grpc.ForceCodecV2(uploadCodec))...)
	if err != nil {
		return err
	}
	if err := st.Send(&pb.UploadRequest{Data: &pb.UploadRequest_Info{Info: &pb.UploadInfo{
		BuildId: key.BuildID, UploadId: uploadID, Type: key.Type,
	}}}); err != nil {
		return streamError(st, err)
	}
	// Each chunk is read into a pooled buffer that gRPC sends as it is and
	// gives back (see chunk). A small object takes a buffer of its size:
	// 1 MiB per stream was most of the client's allocation when uploading
	// many small files.
	pool := mem.DefaultBufferPool()
	size := int(min(ChunkSize, max(obj.Size, 1)))
	var sent int64
	start := time.Now()
	cut := func(err error) error { return cutOffOr(err, time.Since(start), sent) }
	for {
		buf := pool.Get(size)
		n, rerr := io.ReadFull(f, *buf)
		if n > 0 {
			*buf = (*buf)[:n]
			if err := st.SendMsg(chunk{mem.NewBuffer(buf, pool)}); err != nil {
				return cut(streamError(st, err))
			}
			sent += int64(n)
			if progress != nil {
				progress(int64(n))
			}
		} else {
			pool.Put(buf)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if sent != obj.Size {
		return fmt.Errorf("%s changed while uploading (%d bytes read, %d expected)", obj.Name, sent, obj.Size)
	}
	resp, err := st.CloseAndRecv()
	if err != nil {
		return cut(err)
	}
	if resp.GetSize() != 0 && resp.GetSize() != uint64(obj.Size) {
		return Transient(fmt.Errorf("store received %d of %d bytes", resp.GetSize(), obj.Size))
	}
	return nil
}

// cutOff is an upload stream the store dropped (Unavailable) after bytes
// went out: its explanation names a server-side time limit, the usual cause
// when every attempt is cut about as far in (Parca's --http-read-timeout).
type cutOff struct {
	err   error
	after time.Duration
	sent  int64
}

func (c *cutOff) Error() string { return c.err.Error() }
func (c *cutOff) Unwrap() error { return c.err }

// cutOffAfter is how long a stream must have run to count as cut off: a
// store that refuses a stream does so at once (with bytes already handed
// to gRPC), a time limit takes seconds.
var cutOffAfter = time.Second

func cutOffOr(err error, after time.Duration, sent int64) error {
	if sent == 0 || after < cutOffAfter || status.Code(err) != codes.Unavailable {
		return err
	}
	return &cutOff{err, after, sent}
}

// streamError: a failed Send returns io.EOF; the real status comes from
// Recv. A store that answered OK there stopped reading before the end.
func streamError(st pb.DebuginfoService_UploadClient, err error) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := st.CloseAndRecv(); rerr != nil {
			return rerr
		}
		return errors.New("the store ended the upload stream early, answering OK before it had every byte; not marked finished")
	}
	return err
}

// checkSignedURL refuses a signed URL that is no http(s) URL with a host,
// without repeating it: its query is the signature.
func checkSignedURL(raw string) error {
	u, err := neturl.Parse(raw)
	switch {
	case err != nil:
		return errors.New("the store's signed URL is not a valid URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("the store's signed URL has scheme %q: only https and http can take an upload", clip(u.Scheme))
	case u.Host == "":
		return errors.New("the store's signed URL names no host")
	}
	return nil
}

// signedURLClient sends PUTs to signed URLs. It follows no redirect: Go's
// client turns a PUT into a GET on 301-303 (whose 200 would pass for
// success with nothing stored), and any redirect would hand the signed URL
// (as Referer) and the bytes to a host the store never named. It carries no
// store credentials: those go only into gRPC metadata.
func signedURLClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (g *grpcStore) put(ctx context.Context, url string, obj Object, progress Progress) error {
	if err := checkSignedURL(url); err != nil {
		return &final{err} // the store's answer: asking again gives the same
	}
	if u, _ := neturl.Parse(url); u.Scheme == "http" && !g.cfg.Insecure && g.cfg.Warn != nil && !g.plainURLTold.Swap(true) {
		// Not refused: a self-hosted store may sign URLs of an in-cluster
		// bucket that speaks plaintext. But TLS was asked for the store.
		g.cfg.Warn(fmt.Sprintf("the store, reached over TLS, gave a plain http:// signed URL (host %s): the upload crosses the network unencrypted, where it can be read or changed on the way; have the store sign https:// URLs", u.Host))
	}
	f, err := obj.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	body := &countingReader{r: f, progress: progress}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	if err != nil {
		return &final{errors.New("the store's signed URL is not a valid URL")}
	}
	req.ContentLength = obj.Size
	resp, err := g.http.Do(req)
	if err != nil {
		// The URL itself may carry a signature, so it is not repeated in
		// the message.
		err = fmt.Errorf("signed URL PUT to %s: %w", req.URL.Host, unwrapURLError(err))
		if hint := signedURLTLSHint(err); hint != "" {
			return &final{fmt.Errorf("%s: %w", hint, err)} // does not heal by waiting
		}
		// Connection resets and the like: worth another try.
		return Transient(err)
	}
	defer resp.Body.Close()
	body512, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	// A storage service's error quotes the request (S3 and GCS quote the
	// string they signed): the URL's signature must not be repeated.
	msg := hideSignedURL(string(body512), req.URL)
	if resp.StatusCode/100 == 2 {
		// A host that answers before reading the body did not store it: the
		// transport read every byte from us before the last could reach it.
		if n := body.n.Load(); n != obj.Size {
			return fmt.Errorf("signed URL PUT to %s: %s after only %d of %d bytes were sent: not stored", req.URL.Host, resp.Status, n, obj.Size)
		}
		return nil
	}
	if resp.StatusCode/100 == 3 {
		return fmt.Errorf("signed URL PUT to %s: %s (%s not followed: a signed URL must take the upload itself)", req.URL.Host, resp.Status, redirectTo(resp))
	}
	err = fmt.Errorf("signed URL PUT to %s: %s: %s", req.URL.Host, resp.Status, strings.TrimSpace(msg))
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
		return Transient(err)
	}
	return err
}

// signedURLTLSHint says what is wrong when err is a TLS set-up mismatch
// with the host a signed URL names, "" otherwise. That host is checked
// against the system's roots, not --ca-file (which is for the store).
func signedURLTLSHint(err error) string {
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &verify):
		return "the signed-URL host's TLS certificate is not trusted by this machine's CA roots (--ca-file is only for the store's own address: add its CA to the system roots or SSL_CERT_FILE)"
	case errors.Is(err, http.ErrSchemeMismatch), errors.As(err, &record):
		return "the signed-URL host speaks plaintext behind an https:// URL: the store hands out URLs for the wrong port or scheme"
	case errors.As(err, &alert):
		return "the TLS handshake with the signed-URL host failed"
	}
	return ""
}

// hostOf names where a redirect points without its query (a signature).
// redirectTo names where a 3xx answer points, by host only (a URL may
// carry a signature).
func redirectTo(resp *http.Response) string {
	loc := resp.Header.Get("Location")
	u, err := neturl.Parse(loc)
	switch {
	case loc == "":
		return "an answer without a Location"
	case err != nil:
		return "a redirect to an invalid URL"
	case u.Host == "":
		return "a redirect within " + resp.Request.URL.Host
	}
	return fmt.Sprintf("a redirect to %q", u.Host)
}

// hideSignedURL replaces, in a signed-URL host's answer, the URL's path
// and each of its query values (the signature, the credential, the expiry).
func hideSignedURL(msg string, u *neturl.URL) string {
	var parts []string
	for _, vs := range u.Query() {
		parts = append(parts, vs...)
	}
	parts = append(parts, u.RawQuery, u.EscapedPath(), u.Path)
	sort.Slice(parts, func(i, j int) bool { return len(parts[i]) > len(parts[j]) })
	for _, p := range parts {
		if len(p) >= 6 {
			msg = strings.ReplaceAll(msg, p, "[signed URL part]")
			if e := neturl.QueryEscape(p); e != p {
				msg = strings.ReplaceAll(msg, e, "[signed URL part]")
			}
		}
	}
	return msg
}

func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// explain puts err, from a call made with ctx, in words for this store and
// these credentials.
func (g *grpcStore) explain(ctx context.Context, err error) error {
	t := Target{Address: g.address, Insecure: g.cfg.Insecure, Retried: g.cfg.Retry.Attempts > 1,
		Answered: g.answered.Load(), Proxy: g.proxy, OursRanOut: ctx.Err() == context.DeadlineExceeded}
	if g.cfg.Creds != nil {
		t.Creds = g.cfg.Creds.Info()
	}
	return Explain(err, t)
}
