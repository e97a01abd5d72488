package teststore

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

// TestNoGzipLikeGRPCGo: this test binary registers no gzip compressor, so
// a plain store here is a real grpc-go server without the decompressor.
// The NoGzip double must give a compressed stream the same answer.
func TestNoGzipLikeGRPCGo(t *testing.T) {
	if encoding.GetCompressor("gzip") != nil {
		t.Fatal("gzip is registered in this test binary: the plain store would not lack it")
	}
	answer := func(opts Options, compress bool) *status.Status {
		s := Start(t, opts)
		var dopts []grpc.DialOption
		if compress {
			// The pre-registry API compresses without registering gzip
			// for the process, so the server really lacks it.
			dopts = append(dopts, grpc.WithCompressor(grpc.NewGZIPCompressor())) //lint:ignore SA1019 see above
		}
		conn, err := grpc.NewClient(s.Addr(), append(dopts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := pb.NewDebuginfoServiceClient(conn).Upload(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st.Send(&pb.UploadRequest{Data: &pb.UploadRequest_Info{Info: &pb.UploadInfo{BuildId: "abcd", UploadId: "x"}}})
		_, err = st.CloseAndRecv()
		return status.Convert(err)
	}
	grpcGo, double := answer(Options{}, true), answer(Options{NoGzip: true}, true)
	if grpcGo.Code().String() != "Unimplemented" || grpcGo.Message() != `grpc: Decompressor is not installed for grpc-encoding "gzip"` {
		t.Fatalf("grpc-go without gzip answered %v: %q", grpcGo.Code(), grpcGo.Message())
	}
	if double.Code() != grpcGo.Code() || double.Message() != grpcGo.Message() {
		t.Errorf("NoGzip answered %v %q; grpc-go answers %v %q", double.Code(), double.Message(), grpcGo.Code(), grpcGo.Message())
	}
	// Uncompressed streams reach the handler (here: an unknown upload ID).
	if plain := answer(Options{NoGzip: true}, false); plain.Code() == grpcGo.Code() {
		t.Errorf("NoGzip refused an uncompressed stream: %v %q", plain.Code(), plain.Message())
	}
}
