package store

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

// chunk is one piece of an object on the Upload stream, in the pooled buffer
// it was read into. Sent through chunkCodec, it is the UploadRequest
// {chunk_data: buf} without the copy that marshalling a []byte field makes:
// gRPC writes the buffer to the connection and hands it back to the pool.
// Over loopback that copy was a tenth of the client's time on a large file.
type chunk struct{ buf mem.Buffer }

// chunkDataField is UploadRequest.chunk_data's field number.
var chunkDataField = (&pb.UploadRequest{}).ProtoReflect().Descriptor().Fields().ByName("chunk_data").Number()

// chunkCodec is gRPC's proto codec that also marshals a chunk.
type chunkCodec struct{ encoding.CodecV2 }

var uploadCodec = chunkCodec{encoding.GetCodecV2(proto.Name)}

// Name is empty: gRPC names a forced codec in the content type
// ("application/grpc+proto"), and the stream is to go out as every other
// call does, "application/grpc", for stores and proxies that match it.
func (chunkCodec) Name() string { return "" }

func (c chunkCodec) Marshal(v any) (mem.BufferSlice, error) {
	ch, ok := v.(chunk)
	if !ok {
		return c.CodecV2.Marshal(v)
	}
	// The field's tag and length, then the bytes themselves: a message with
	// one length-delimited field. gRPC owns (and frees) what is returned.
	head := protowire.AppendTag(make([]byte, 0, protowire.SizeTag(chunkDataField)+protowire.SizeVarint(uint64(ch.buf.Len()))), chunkDataField, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(ch.buf.Len()))
	return mem.BufferSlice{mem.SliceBuffer(head), ch.buf}, nil
}
