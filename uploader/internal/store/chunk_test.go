package store

import (
	"bytes"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

// A chunk goes on the wire exactly as the UploadRequest it stands for, at
// every length-prefix size; other messages are marshalled as before.
func TestChunkCodecMarshalsAsUploadRequest(t *testing.T) {
	for _, n := range []int{1, 127, 128, 16383, 16384, ChunkSize} {
		data := bytes.Repeat([]byte{0xa5, 0x3c, 0}, n/3+1)[:n]
		want, err := proto.Marshal(&pb.UploadRequest{Data: &pb.UploadRequest_ChunkData{ChunkData: data}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := uploadCodec.Marshal(chunk{mem.SliceBuffer(data)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Materialize(), want) {
			t.Errorf("%d bytes: chunk marshals to %x..., want %x...", n, got.Materialize()[:4], want[:4])
		}
		var back pb.UploadRequest
		if err := uploadCodec.Unmarshal(got, &back); err != nil || !bytes.Equal(back.GetChunkData(), data) {
			t.Errorf("%d bytes: does not read back as chunk_data: %v", n, err)
		}
	}
	info := &pb.UploadRequest{Data: &pb.UploadRequest_Info{Info: &pb.UploadInfo{BuildId: "b", UploadId: "u"}}}
	want, _ := proto.Marshal(info)
	got, err := uploadCodec.Marshal(info)
	if err != nil || !bytes.Equal(got.Materialize(), want) {
		t.Errorf("UploadInfo marshals to %x, %v; want %x", got.Materialize(), err, want)
	}
}
