package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

// ChunkSize is the gRPC upload chunk: 1 MiB measured fastest against Parca
// on loopback, well under its 64 MiB message cap.
const ChunkSize = 1 << 20

// DialConfig says how to reach a gRPC store.
type DialConfig struct {
	Insecure           bool   // plaintext (no TLS at all)
	InsecureSkipVerify bool   // TLS without certificate checks
	CAFile             string // PEM roots to trust instead of the system's
	PerRPC             credentials.PerRPCCredentials
}

// Dial connects lazily: errors surface on the first call, where they are
// retried like any other transient failure.
func Dial(ctx context.Context, address string, cfg DialConfig) (*grpc.ClientConn, error) {
	var opts []grpc.DialOption
	if cfg.Insecure {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		tc := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := readCA(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("--ca-file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--ca-file %s: no PEM certificates in it", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	}
	if cfg.PerRPC != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(cfg.PerRPC))
	}
	opts = append(opts, grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	conn, err := grpc.NewClient(address, opts...)
	if err != nil {
		return nil, fmt.Errorf("store address %q: %w", address, err)
	}
	return conn, nil
}

// maxCAFile bounds --ca-file (a full system bundle is well under 1 MiB), so
// a path like /dev/zero fails instead of reading without end.
const maxCAFile = 16 << 20

func readCA(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCAFile+1))
	if err == nil && len(b) > maxCAFile {
		err = fmt.Errorf("%s holds more than %d bytes: not a PEM bundle", path, maxCAFile)
	}
	return b, err
}

// GRPC is a Store speaking to a DebuginfoService.
type GRPC struct {
	conn   *grpc.ClientConn
	client pb.DebuginfoServiceClient
	http   *http.Client
	Retry  Retry
	// CallTimeout bounds each unary call, so a hung store fails over to a retry.
	CallTimeout time.Duration
	// Shared: the connection outlives this store (Close leaves it open).
	Shared bool

	// down holds the error that made one file give up on an unreachable
	// store; later files fail with it at once instead of each spending a
	// whole retry cycle (a run over 5,000 files would take hours).
	down atomic.Pointer[error]
	// timeouts counts calls in a row that got no answer in time.
	timeouts atomic.Int32
	// Insecure is set for plaintext connections: a store that drops one is
	// then probed for TLS, to tell "drop --insecure" from "store down".
	Insecure bool
	// Compression compresses Upload stream messages (GzipCompression or
	// NoCompression; "" is none). Signed-URL PUTs are sent as they are.
	Compression string
	// gzipRefused is set once the store answered that it lacks the gzip
	// decompressor: the rest of the run sends uncompressed at once.
	gzipRefused atomic.Bool
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

// NewGRPC wraps a connection made by Dial.
func NewGRPC(conn *grpc.ClientConn) *GRPC {
	return &GRPC{
		conn:        conn,
		client:      pb.NewDebuginfoServiceClient(conn),
		http:        signedURLClient(),
		Retry:       DefaultRetry,
		CallTimeout: 30 * time.Second,
	}
}

// Close closes the connection, unless it is shared (Shared: a persistent
// worker keeps one connection for all its requests).
func (g *GRPC) Close() error {
	if g.Shared {
		return nil
	}
	return g.conn.Close()
}

func (g *GRPC) unary(ctx context.Context, f func(ctx context.Context) error) error {
	if down := g.down.Load(); down != nil {
		return *down
	}
	err := g.Retry.do(ctx, func(int) error {
		if down := g.down.Load(); down != nil {
			return &final{*down} // another file gave up meanwhile
		}
		cctx, cancel := context.WithTimeout(ctx, g.CallTimeout)
		defer cancel()
		err := f(cctx)
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
		if hint := TLSHint(ctx, err, g.conn.Target(), g.Insecure); hint != "" {
			return &final{&hinted{hint, err}}
		}
		return err
	})
	// Out of retries or out of time, the store was still unreachable.
	if status.Code(err) == codes.Unavailable {
		g.down.CompareAndSwap(nil, &err)
	}
	return err
}

// maxTimeouts is how many calls in a row may go unanswered before the
// store is given up on: with the defaults one file already tries 6 times
// for 30 s each, and a run of many files would wait that long per file.
const maxTimeouts = 3

// TLSHint says what to change when err (from a call to target) comes from
// a TLS mismatch, "" when it does not. The handshake's own errors tell for
// TLS connections; a plaintext connection (insecure) cut before gRPC
// started is only blamed on TLS when target really completes a TLS
// handshake: a store that is restarting cuts connections too.
func TLSHint(ctx context.Context, err error, target string, insecure bool) string {
	if err == nil {
		return ""
	}
	if hint := tlsHint(err); hint != "" || !insecure || status.Code(err) != codes.Unavailable {
		return hint
	}
	if strings.Contains(err.Error(), "server preface") && speaksTLS(ctx, target) {
		return "the store speaks TLS: drop --insecure"
	}
	return ""
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

func (g *GRPC) ShouldUpload(ctx context.Context, key Key, force bool) (bool, string, error) {
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
		return false, "", explain(err)
	}
	return resp.ShouldInitiateUpload, resp.Reason, nil
}

// Upload initiates, sends and finishes one object. When the bytes do not
// arrive (a cut stream, a restarted server) the whole upload is started
// again with force: the "upload in progress" state our own dead attempt
// left behind must not turn the retry into a skip.
func (g *GRPC) Upload(ctx context.Context, key Key, obj Object, force bool, progress Progress) error {
	if err := key.Check(); err != nil {
		return err
	}
	err := g.Retry.do(ctx, func(attempt int) error {
		forceNow := force || attempt > 0
		var ins *pb.UploadInstructions
		err := g.unary(ctx, func(ctx context.Context) error {
			resp, err := g.client.InitiateUpload(ctx, &pb.InitiateUploadRequest{
				BuildId: key.BuildID, BuildIdType: key.BuildIDType, Type: key.Type,
				Size: obj.Size, Hash: obj.Hash, Force: forceNow,
			})
			if err != nil {
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
	var sk *Skipped
	if errors.As(err, &sk) {
		return err
	}
	return explain(err)
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
			// we asked: either way this process has nothing left to do.
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
func (g *GRPC) stream(ctx context.Context, key Key, uploadID string, obj Object, progress Progress) error {
	if g.Compression == GzipCompression && !g.gzipRefused.Load() {
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

func (g *GRPC) send(ctx context.Context, key Key, uploadID string, obj Object, progress Progress, opts ...grpc.CallOption) error {
	f, err := obj.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := g.client.Upload(sctx, opts...)
	if err != nil {
		return err
	}
	if err := st.Send(&pb.UploadRequest{Data: &pb.UploadRequest_Info{Info: &pb.UploadInfo{
		BuildId: key.BuildID, UploadId: uploadID, Type: key.Type,
	}}}); err != nil {
		return streamError(st, err)
	}
	// A small object gets a buffer of its size: 1 MiB per stream was most of
	// the client's allocation when uploading many small files.
	buf := make([]byte, min(ChunkSize, max(obj.Size, 1)))
	var sent int64
	for {
		n, rerr := io.ReadFull(f, buf)
		if n > 0 {
			if err := st.Send(&pb.UploadRequest{Data: &pb.UploadRequest_ChunkData{ChunkData: buf[:n]}}); err != nil {
				return streamError(st, err)
			}
			sent += int64(n)
			if progress != nil {
				progress(int64(n))
			}
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
		return err
	}
	if resp.GetSize() != 0 && resp.GetSize() != uint64(obj.Size) {
		return Transient(fmt.Errorf("store received %d of %d bytes", resp.GetSize(), obj.Size))
	}
	return nil
}

// streamError: a failed Send returns io.EOF; the real status comes from Recv.
func streamError(st pb.DebuginfoService_UploadClient, err error) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := st.CloseAndRecv(); rerr != nil {
			return rerr
		}
	}
	return err
}

// signedURLClient sends PUTs to signed URLs. It follows no redirect: Go's
// client turns a PUT into a GET on 301-303 (whose 200 would pass for
// success with nothing stored), and any redirect would hand the signed URL
// (as Referer) and the bytes to a host the store never named. It carries no
// store credentials: those go only into gRPC metadata.
func signedURLClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (g *GRPC) put(ctx context.Context, url string, obj Object, progress Progress) error {
	f, err := obj.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	body := &countingReader{r: f, progress: progress}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	if err != nil {
		return fmt.Errorf("signed URL: %w", err)
	}
	req.ContentLength = obj.Size
	resp, err := g.http.Do(req)
	if err != nil {
		// Connection resets and the like: worth another try. The URL itself
		// may carry a signature, so it is not repeated in the message.
		return Transient(fmt.Errorf("signed URL PUT to %s: %w", req.URL.Host, unwrapURLError(err)))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		// A host that answers before reading the body did not store it: the
		// transport read every byte from us before the last could reach it.
		if n := body.n.Load(); n != obj.Size {
			return fmt.Errorf("signed URL PUT to %s: %s after only %d of %d bytes were sent: not stored", req.URL.Host, resp.Status, n, obj.Size)
		}
		return nil
	}
	if resp.StatusCode/100 == 3 {
		return fmt.Errorf("signed URL PUT to %s: %s (redirect to %q not followed: a signed URL must take the upload itself)", req.URL.Host, resp.Status, hostOf(resp.Header.Get("Location")))
	}
	err = fmt.Errorf("signed URL PUT to %s: %s: %s", req.URL.Host, resp.Status, strings.TrimSpace(string(msg)))
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
		return Transient(err)
	}
	return err
}

// hostOf names where a redirect points without its query (a signature).
func hostOf(location string) string {
	u, err := neturl.Parse(location)
	if err != nil {
		return "?"
	}
	return u.Host
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

// explain rewrites gRPC statuses into sentences that say what to do.
func explain(err error) error {
	if err == nil {
		return nil
	}
	var f *final
	if errors.As(err, &f) {
		err = f.err
	}
	var h *hinted
	if errors.As(err, &h) {
		return fmt.Errorf("cannot connect to the store: %s (%s)", h.hint, status.Convert(h.err).Message())
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := st.Message()
	switch st.Code() {
	case codes.Unauthenticated:
		return fmt.Errorf("store rejected the credentials (token unknown, expired or revoked): %s", msg)
	case codes.PermissionDenied:
		return fmt.Errorf("permission denied: the token lacks the Debug Info Writer role for this project: %s", msg)
	case codes.InvalidArgument:
		if strings.Contains(msg, "exceeds maximum allowed size") {
			return fmt.Errorf("file too large for this store (%s); raise the store's limit (Parca: --debuginfo-upload-max-size) or upload a smaller debug file", msg)
		}
		return fmt.Errorf("store refused the request: %s", msg)
	case codes.Unavailable:
		if hint := tlsHint(err); hint != "" {
			return fmt.Errorf("cannot connect to the store: %s (%s)", hint, msg)
		}
		return fmt.Errorf("store unavailable (gave up after retries): %s", msg)
	case codes.DeadlineExceeded:
		return fmt.Errorf("timed out (see --timeout): %s", msg)
	}
	return fmt.Errorf("store error (%s): %s", st.Code(), msg)
}
