package store_test

// Stores written for one misbehaviour each, where the test store has no
// switch for it.

import (
	"context"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

type longReasonStore struct {
	pb.UnimplementedDebuginfoServiceServer
}

func (longReasonStore) ShouldInitiateUpload(context.Context, *pb.ShouldInitiateUploadRequest) (*pb.ShouldInitiateUploadResponse, error) {
	return &pb.ShouldInitiateUploadResponse{Reason: strings.Repeat("why ", 1<<18)}, nil
}

// A store's reason is printed once per file: megabytes of it are cut to
// what a message may repeat, and say so.
func TestLongReasonIsClipped(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterDebuginfoServiceServer(srv, longReasonStore{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	g := open(t, lis.Addr().String(), store.Config{Insecure: true, Retry: fastRetry})
	_, reason, err := g.ShouldUpload(context.Background(), key, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(reason) > 2048 || !strings.Contains(reason, "more bytes)") {
		t.Errorf("reason of %d bytes (%.40q...)", len(reason), reason)
	}
}

// earlyOKStore answers every Upload stream OK at once, reading nothing.
type earlyOKStore struct {
	pb.UnimplementedDebuginfoServiceServer
}

func (earlyOKStore) InitiateUpload(context.Context, *pb.InitiateUploadRequest) (*pb.InitiateUploadResponse, error) {
	return &pb.InitiateUploadResponse{UploadInstructions: &pb.UploadInstructions{
		UploadId: "u1", UploadStrategy: pb.UploadInstructions_UPLOAD_STRATEGY_GRPC}}, nil
}

func (earlyOKStore) Upload(st pb.DebuginfoService_UploadServer) error {
	return st.SendAndClose(&pb.UploadResponse{})
}

// A store that answers OK before it has every byte fails the upload with
// words, not a bare "EOF" (found by a review), and nothing is marked
// finished.
func TestEarlyOKStreamSaysSo(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterDebuginfoServiceServer(srv, earlyOKStore{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	g := open(t, lis.Addr().String(), store.Config{Insecure: true, Retry: store.Retry{Attempts: 1}})
	obj, _ := object(t, 8*store.ChunkSize)
	err = g.Upload(context.Background(), key, obj, false, nil)
	if err == nil || !strings.Contains(err.Error(), "ended the upload stream early") {
		t.Fatalf("upload to a store answering OK early: %v", err)
	}
}
