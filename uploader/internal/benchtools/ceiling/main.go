// Command ceiling measures what a store accepts over one connection with the
// least possible client: the same bytes as the benchmarked upload, sent from
// memory in 1 MiB chunks with no extraction, hashing or retries. The file is
// mapped, not read: copying 256 MiB into the heap first cost the process
// more wall time than sending it, which would flatter the uploader. Its
// process wall time is what the uploader's is compared with; it also prints
// the seconds and MB/s of the send alone.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7070", "plaintext gRPC store address")
	file := flag.String("file", "", "file whose bytes to send")
	gz := flag.Bool("gzip", false, "compress the upload stream with gRPC's gzip (Parca registers it)")
	flag.Parse()
	data, err := mapFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c := pb.NewDebuginfoServiceClient(conn)
	ctx := context.Background()
	var id [20]byte
	rand.Read(id[:])
	buildID := hex.EncodeToString(id[:])

	start := time.Now()
	ins, err := c.InitiateUpload(ctx, &pb.InitiateUploadRequest{BuildId: buildID, Size: int64(len(data)), Hash: "ceiling-" + buildID})
	if err != nil {
		log.Fatal(err)
	}
	var callOpts []grpc.CallOption
	if *gz {
		callOpts = append(callOpts, grpc.UseCompressor(gzip.Name))
	}
	st, err := c.Upload(ctx, callOpts...)
	if err != nil {
		log.Fatal(err)
	}
	must(st.Send(&pb.UploadRequest{Data: &pb.UploadRequest_Info{Info: &pb.UploadInfo{BuildId: buildID, UploadId: ins.UploadInstructions.UploadId}}}))
	for off := 0; off < len(data); off += 1 << 20 {
		end := min(off+1<<20, len(data))
		must(st.Send(&pb.UploadRequest{Data: &pb.UploadRequest_ChunkData{ChunkData: data[off:end]}}))
	}
	if _, err := st.CloseAndRecv(); err != nil {
		log.Fatal(err)
	}
	_, err = c.MarkUploadFinished(ctx, &pb.MarkUploadFinishedRequest{BuildId: buildID, UploadId: ins.UploadInstructions.UploadId})
	must(err)
	secs := time.Since(start).Seconds()
	fmt.Printf("%.3f %.1f\n", secs, float64(len(data))/secs/1e6)
}

func mapFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
