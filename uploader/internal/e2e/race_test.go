package e2e

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// racer forwards the debuginfo service to Parca and, right after passing
// on an InitiateUpload, plays a second uploader that won Parca's
// check-then-set race: its own InitiateUpload replaces the upload ID. This
// is the interleaving two concurrent uploaders hit now and then (Parca
// checks "should initiate" and marks "uploading" without a lock).
type racer struct {
	pb.UnimplementedDebuginfoServiceServer
	parca pb.DebuginfoServiceClient
	rival *pb.UploadInstructions // the winner's instructions
}

func (r *racer) ShouldInitiateUpload(ctx context.Context, req *pb.ShouldInitiateUploadRequest) (*pb.ShouldInitiateUploadResponse, error) {
	return r.parca.ShouldInitiateUpload(ctx, req)
}

func (r *racer) InitiateUpload(ctx context.Context, req *pb.InitiateUploadRequest) (*pb.InitiateUploadResponse, error) {
	resp, err := r.parca.InitiateUpload(ctx, req)
	if err != nil || r.rival != nil {
		return resp, err
	}
	// Both passed the check; the rival's "uploading" mark lands second.
	rival, err := r.parca.InitiateUpload(ctx, &pb.InitiateUploadRequest{
		BuildId: req.BuildId, BuildIdType: req.BuildIdType, Type: req.Type, Size: req.Size, Hash: req.Hash, Force: true,
	})
	if err != nil {
		return nil, err
	}
	r.rival = rival.UploadInstructions
	return resp, nil
}

func (r *racer) Upload(in grpc.ClientStreamingServer[pb.UploadRequest, pb.UploadResponse]) error {
	out, err := r.parca.Upload(in.Context())
	if err != nil {
		return err
	}
	for {
		m, err := in.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := out.Send(m); err != nil {
			break // the real status comes from CloseAndRecv
		}
	}
	resp, err := out.CloseAndRecv()
	if err != nil {
		return err
	}
	return in.SendAndClose(resp)
}

func (r *racer) MarkUploadFinished(ctx context.Context, req *pb.MarkUploadFinishedRequest) (*pb.MarkUploadFinishedResponse, error) {
	return r.parca.MarkUploadFinished(ctx, req)
}

// Two uploaders initiate the same build ID at the same moment and the
// other one's upload ID wins: ours must step aside cleanly (skip, exit 0)
// while the winner completes, as when it loses the race at initiation.
func TestConcurrentInitiateRace(t *testing.T) {
	t.Parallel()
	pa := StartParca(t, ParcaOptions{})
	conn, err := grpc.NewClient(pa.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := &racer{parca: pb.NewDebuginfoServiceClient(conn)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterDebuginfoServiceServer(srv, r)
	go srv.Serve(l)
	defer srv.Stop()

	bin := testbin.C(t, "race", "race", "-g")
	id := mustID(t, bin)
	debug := extract(t, bin)
	res := cli(t, "upload", "--store-address="+l.Addr().String(), "--insecure", "--json", bin)
	if r.rival == nil {
		t.Fatalf("the race was not staged: %v", res)
	}

	// The winner finishes its upload.
	data, err := os.ReadFile(debug)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := r.parca.Upload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&pb.UploadRequest{Data: &pb.UploadRequest_Info{Info: &pb.UploadInfo{BuildId: id, UploadId: r.rival.UploadId}}})
	st.Send(&pb.UploadRequest{Data: &pb.UploadRequest_ChunkData{ChunkData: data}})
	if _, err := st.CloseAndRecv(); err != nil {
		t.Fatalf("the winner's upload: %v", err)
	}
	if _, err := r.parca.MarkUploadFinished(ctx, &pb.MarkUploadFinishedRequest{BuildId: id, UploadId: r.rival.UploadId}); err != nil {
		t.Fatalf("the winner's MarkUploadFinished: %v", err)
	}
	checkStored(t, pa, id, "debuginfo", debug)

	rep := one(t, res.reports(t))
	if res.code != 0 || rep.Action != upload.Skipped {
		t.Fatalf("PRODUCT BUG: the loser of a concurrent initiation reports %s (exit %d): %s\n"+
			"want skipped, exit 0: another uploader holds the build ID, as at initiation", rep.Action, res.code, rep.Reason)
	}
}
