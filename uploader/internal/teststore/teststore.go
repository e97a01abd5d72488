// Package teststore is an in-process debuginfo store for tests. It follows
// the rules the real Parca server (v0.28.0) enforces: non-trivial build IDs,
// non-zero hash and size, a size limit, upload IDs that must match,
// FailedPrecondition for a second initiation without force or for an upload
// that was never initiated, a 64 MiB message cap, and "uploaded" only after
// MarkUploadFinished. It serves the gRPC and the signed-URL strategies and
// can inject faults.
package teststore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

// Options configure a test store.
type Options struct {
	// Authorize is called first on every RPC; its error goes to the client.
	Authorize func(ctx context.Context, fullMethod string) error
	// TLS serves gRPC over TLS when set.
	TLS *tls.Config
	// SignedURL makes InitiateUpload hand out signed-URL PUTs instead of gRPC.
	SignedURL bool
	// SignedURLBase, when set ("http://host:port"), is where signed URLs
	// point instead of this store's own PUT endpoint: a hostile or broken
	// object store. The path and query stay the same.
	SignedURLBase string
	// MaxUploadSize mirrors Parca's --debuginfo-upload-max-size (default 1e9).
	MaxUploadSize int64
	// NoGzip makes the store answer like a grpc-go server without the gzip
	// decompressor registered (registration is process-wide, and a test
	// that uses the client has it): compressed streams are refused before
	// the handler runs, with grpc-go's own status (TestNoGzipLikeGRPCGo).
	NoGzip bool
	// QuestionDelay makes each ShouldInitiateUpload take this long, so that
	// MaxQuestionsInFlight shows how many a client asks at once.
	QuestionDelay time.Duration
}

// compressed notes a stream that arrives compressed and, for a NoGzip
// store, gives grpc-go's answer (server.go, processStreamingRPC) to a
// stream compressed with a compressor the server has not registered.
func (s *Server) compressed(ctx context.Context) error {
	sts, _ := grpc.ServerTransportStreamFromContext(ctx).(interface{ RecvCompress() string })
	if sts == nil {
		return status.Error(codes.Internal, "test store: cannot see the stream's grpc-encoding")
	}
	rc := sts.RecvCompress()
	if rc == "" || rc == "identity" {
		return nil
	}
	s.mu.Lock()
	s.compressedStreams++
	s.mu.Unlock()
	if s.opts.NoGzip {
		return status.Errorf(codes.Unimplemented, "grpc: Decompressor is not installed for grpc-encoding %q", rc)
	}
	return nil
}

// CompressedStreams counts the streams that arrived compressed (refused
// ones included).
func (s *Server) CompressedStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compressedStreams
}

// Server is a running test store.
type Server struct {
	pb.UnimplementedDebuginfoServiceServer
	opts Options
	lis  net.Listener
	grpc *grpc.Server
	http *http.Server
	hlis net.Listener

	mu      sync.Mutex
	objects map[key]*object
	faults  faults
	calls   map[string]int
	history []string // "Method buildID" of questions and initiations, in order

	inFlight, maxInFlight int // ShouldInitiateUpload calls being answered

	compressedStreams int
}

type key struct {
	buildID string
	typ     pb.DebuginfoType
}

type object struct {
	buildIDType pb.BuildIDType
	uploadID    string
	hash        string
	size        int64
	state       pb.DebuginfoUpload_State
	pending     []byte // bytes of the upload in flight
	data        []byte // bytes of the finished upload
	received    bool   // pending holds a complete upload
}

// Start runs a store on 127.0.0.1 until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Listen runs a store on addr (a loopback address; port 0 picks one) until
// Stop. The signed-URL endpoint gets a port of its own on the same host.
func Listen(addr string, opts Options) (*Server, error) {
	if opts.MaxUploadSize == 0 {
		opts.MaxUploadSize = 1e9
	}
	s := &Server{opts: opts, objects: map[key]*object{}, calls: map[string]int{}}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.lis = lis
	sopts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(64 << 20),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := s.before(ctx, info.FullMethod); err != nil {
				return nil, err
			}
			resp, err := h(ctx, req)
			if err == nil && s.faults.lost(methodName(info.FullMethod)) {
				return nil, status.Error(codes.Unavailable, "answer lost")
			}
			return resp, err
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := s.compressed(ss.Context()); err != nil {
				return err
			}
			if err := s.before(ss.Context(), info.FullMethod); err != nil {
				return err
			}
			return h(srv, ss)
		}),
	}
	if opts.TLS != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	s.grpc = grpc.NewServer(sopts...)
	pb.RegisterDebuginfoServiceServer(s.grpc, s)
	go s.grpc.Serve(lis)

	host, _, _ := net.SplitHostPort(lis.Addr().String())
	hlis, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		s.grpc.Stop()
		return nil, err
	}
	s.hlis = hlis
	s.http = &http.Server{Handler: http.HandlerFunc(s.servePUT)}
	go s.http.Serve(hlis)
	return s, nil
}

// PutHandler is the store's own signed-URL endpoint, for a hostile server
// (see SignedURLBase) that passes some requests on to it.
func (s *Server) PutHandler() http.Handler { return http.HandlerFunc(s.servePUT) }

// Addr is the gRPC address, host:port.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Stop ends the store at once, cutting open streams.
func (s *Server) Stop() {
	s.grpc.Stop()
	s.http.Close()
}

// Uploaded returns the bytes of a finished upload.
func (s *Server) Uploaded(buildID string, typ pb.DebuginfoType) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[key{buildID, typ}]
	if o == nil || o.state != pb.DebuginfoUpload_STATE_UPLOADED {
		return nil, false
	}
	return o.data, true
}

// State reports an object's upload state and build ID type.
func (s *Server) State(buildID string, typ pb.DebuginfoType) (pb.DebuginfoUpload_State, pb.BuildIDType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[key{buildID, typ}]
	if o == nil {
		return pb.DebuginfoUpload_STATE_UNKNOWN_UNSPECIFIED, 0
	}
	return o.state, o.buildIDType
}

// History lists the questions (ShouldInitiateUpload) and initiations
// (InitiateUpload) the store answered, in order, as "Method buildID".
func (s *Server) History() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.history)
}

// MaxQuestionsInFlight is the most ShouldInitiateUpload calls answered at
// once (counted with Options.QuestionDelay only).
func (s *Server) MaxQuestionsInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Calls counts RPCs by method name ("Upload", "InitiateUpload", ...).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// methodName is "Upload" of "/parca.debuginfo.v1alpha1.DebuginfoService/Upload".
func methodName(fullMethod string) string {
	return fullMethod[strings.LastIndex(fullMethod, "/")+1:]
}

func (s *Server) before(ctx context.Context, fullMethod string) error {
	name := methodName(fullMethod)
	s.mu.Lock()
	s.calls[name]++
	s.mu.Unlock()
	if s.opts.Authorize != nil {
		if err := s.opts.Authorize(ctx, fullMethod); err != nil {
			return err
		}
	}
	return s.faults.take(ctx, name)
}

func validBuildID(id string) error {
	if len(id) <= 2 {
		return status.Error(codes.InvalidArgument, "unexpectedly short input")
	}
	return nil
}

func (s *Server) ShouldInitiateUpload(ctx context.Context, req *pb.ShouldInitiateUploadRequest) (*pb.ShouldInitiateUploadResponse, error) {
	if err := validBuildID(req.BuildId); err != nil {
		return nil, err
	}
	if d := s.opts.QuestionDelay; d > 0 {
		s.mu.Lock()
		s.inFlight++
		s.maxInFlight = max(s.maxInFlight, s.inFlight)
		s.mu.Unlock()
		time.Sleep(d)
		defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history = append(s.history, "ShouldInitiateUpload "+req.BuildId)
	should, reason := s.should(req.BuildId, req.Type, req.Force)
	return &pb.ShouldInitiateUploadResponse{ShouldInitiateUpload: should, Reason: reason}, nil
}

// should mirrors Parca's decision table (no debuginfod, no staleness: an
// in-flight upload blocks everyone but a forced request).
func (s *Server) should(buildID string, typ pb.DebuginfoType, force bool) (bool, string) {
	o := s.objects[key{buildID, typ}]
	switch {
	case o == nil:
		return true, "First time we see this Build ID, therefore please upload!"
	case o.state == pb.DebuginfoUpload_STATE_UPLOADING && force:
		return true, "A previous upload is in-progress, but accepting restart because it's requested to be forced."
	case o.state == pb.DebuginfoUpload_STATE_UPLOADING:
		return false, "A previous upload is still in-progress and not stale yet (only stale uploads can be retried)."
	case force:
		return true, "Debuginfo already exists, but accepting it because it's requested to be forced."
	}
	return false, "Debuginfo already exists and is not marked as invalid, therefore no new upload is needed."
}

func (s *Server) InitiateUpload(ctx context.Context, req *pb.InitiateUploadRequest) (*pb.InitiateUploadResponse, error) {
	if req.Hash == "" {
		return nil, status.Error(codes.InvalidArgument, "hash must be set")
	}
	if req.Size == 0 {
		return nil, status.Error(codes.InvalidArgument, "size must be set")
	}
	if err := validBuildID(req.BuildId); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history = append(s.history, "InitiateUpload "+req.BuildId)
	if should, reason := s.should(req.BuildId, req.Type, req.Force); !should {
		return nil, status.Errorf(codes.FailedPrecondition, "upload should not have been attempted to be initiated, a previous check should have failed with: %s", reason)
	}
	if req.Size > s.opts.MaxUploadSize {
		return nil, status.Errorf(codes.InvalidArgument, "upload size %d exceeds maximum allowed size %d", req.Size, s.opts.MaxUploadSize)
	}
	k := key{req.BuildId, req.Type}
	o := s.objects[k]
	if o == nil {
		o = &object{}
		s.objects[k] = o
	}
	// A forced restart supersedes the old upload ID; the stored data of a
	// finished upload stays readable until the new one finishes.
	o.buildIDType = req.BuildIdType
	o.uploadID = newID()
	o.hash = req.Hash
	o.size = req.Size
	o.state = pb.DebuginfoUpload_STATE_UPLOADING
	o.pending, o.received = nil, false
	ins := &pb.UploadInstructions{BuildId: req.BuildId, UploadId: o.uploadID, Type: req.Type,
		UploadStrategy: pb.UploadInstructions_UPLOAD_STRATEGY_GRPC}
	if s.opts.SignedURL {
		ins.UploadStrategy = pb.UploadInstructions_UPLOAD_STRATEGY_SIGNED_URL
		base := "http://" + s.hlis.Addr().String()
		if s.opts.SignedURLBase != "" {
			base = s.opts.SignedURLBase
		}
		ins.SignedUrl = fmt.Sprintf("%s/upload/%s?type=%d&build_id=%s&signature=%s", base, o.uploadID, req.Type, req.BuildId, newID())
	}
	return &pb.InitiateUploadResponse{UploadInstructions: ins}, nil
}

func (s *Server) Upload(stream pb.DebuginfoService_UploadServer) error {
	if s.opts.SignedURL {
		return status.Error(codes.Unimplemented, "signed URL uploads are the only supported upload strategy for this service")
	}
	req, err := stream.Recv()
	if err != nil {
		return status.Errorf(codes.Unknown, "failed to receive upload info: %q", err)
	}
	info := req.GetInfo()
	if info == nil {
		return status.Error(codes.InvalidArgument, "first message must carry upload info")
	}
	if err := validBuildID(info.BuildId); err != nil {
		return err
	}
	if err := s.checkUpload(info.BuildId, info.Type, info.UploadId); err != nil {
		return err
	}
	var buf bytes.Buffer
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		buf.Write(req.GetChunkData())
		if err := s.faults.afterBytes(int64(buf.Len())); err != nil {
			return err
		}
	}
	if err := s.receive(info.BuildId, info.Type, info.UploadId, buf.Bytes()); err != nil {
		return err
	}
	return stream.SendAndClose(&pb.UploadResponse{BuildId: info.BuildId, Size: s.faults.reported(buf.Len())})
}

func (s *Server) checkUpload(buildID string, typ pb.DebuginfoType, uploadID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[key{buildID, typ}]
	if o == nil {
		return status.Error(codes.FailedPrecondition, "metadata not found, this indicates that the upload was not previously initiated")
	}
	if o.uploadID != uploadID {
		return status.Error(codes.InvalidArgument, "the upload ID does not match the one returned by the InitiateUpload call")
	}
	return nil
}

func (s *Server) receive(buildID string, typ pb.DebuginfoType, uploadID string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[key{buildID, typ}]
	if o == nil || o.uploadID != uploadID {
		return status.Error(codes.InvalidArgument, "the upload ID does not match the one returned by the InitiateUpload call")
	}
	o.pending, o.received = append([]byte(nil), data...), true
	return nil
}

func (s *Server) MarkUploadFinished(ctx context.Context, req *pb.MarkUploadFinishedRequest) (*pb.MarkUploadFinishedResponse, error) {
	if err := validBuildID(req.BuildId); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[key{req.BuildId, req.Type}]
	if o == nil {
		return nil, status.Error(codes.NotFound, "no debuginfo metadata found for build id")
	}
	if o.uploadID != req.UploadId {
		return nil, status.Error(codes.InvalidArgument, "upload id mismatch")
	}
	if o.state == pb.DebuginfoUpload_STATE_UPLOADED && o.pending == nil {
		return &pb.MarkUploadFinishedResponse{}, nil // again, as Parca allows
	}
	// Parca itself does not re-check here; the test store is stricter so
	// that a client marking a half-sent upload finished is caught.
	if !o.received || int64(len(o.pending)) != o.size {
		return nil, status.Errorf(codes.FailedPrecondition, "upload %s is incomplete: %d of %d bytes received", req.UploadId, len(o.pending), o.size)
	}
	o.data, o.pending = o.pending, nil
	o.state = pb.DebuginfoUpload_STATE_UPLOADED
	return &pb.MarkUploadFinishedResponse{}, nil
}

// servePUT is the signed-URL endpoint: PUT /upload/<upload-id>?type=..&build_id=..
func (s *Server) servePUT(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "PUT only", http.StatusMethodNotAllowed)
		return
	}
	if code := s.faults.takePUT(); code != 0 {
		io.Copy(io.Discard, r.Body)
		http.Error(w, "injected fault", code)
		return
	}
	if r.ContentLength < 0 {
		http.Error(w, "Content-Length required", http.StatusLengthRequired)
		return
	}
	uploadID := strings.TrimPrefix(r.URL.Path, "/upload/")
	var typ pb.DebuginfoType
	fmt.Sscan(r.URL.Query().Get("type"), (*int32)(&typ))
	buildID := r.URL.Query().Get("build_id")
	data, err := io.ReadAll(r.Body)
	if err != nil || int64(len(data)) != r.ContentLength {
		http.Error(w, "short body", http.StatusBadRequest)
		return
	}
	if err := s.receive(buildID, typ, uploadID, data); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
