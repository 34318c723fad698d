package genrt

import (
	"sync"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// A WireMessage is a message that writes and reads its own protobuf wire
// form. kitgen generates WireMessages for the request and response types of
// a service, so a Go interface is served over gRPC without protoc: the
// bytes are those protobuf-go writes in deterministic mode for the
// equivalent .proto message.
type WireMessage interface {
	// MarshalProtoWire appends the message's wire form to b.
	MarshalProtoWire(b []byte) ([]byte, error)
	// UnmarshalProtoWire reads the message from its wire form, skipping
	// fields it does not know. Malformed input is an InvalidArgument error.
	UnmarshalProtoWire(b []byte) error
}

// Buffers is the gRPC codec's form of a marshalled message: buffers that
// the transport frees when it has written them.
type Buffers = mem.BufferSlice

// A BufferedWireMessage is a [WireMessage] that also writes itself into
// gRPC's pooled buffers, which kitgen generates beside MarshalProtoWire:
// the codec uses it so that a large message is not written into a buffer
// allocated for that call alone, as grpc-go's own codec does for
// protobuf-go's messages.
type BufferedWireMessage interface {
	WireMessage
	// MarshalProtoWireBuffers returns the message's wire form in buffers
	// from [Buffer].
	MarshalProtoWireBuffers() (Buffers, error)
}

// Buffer returns n bytes to write a message into and the [Buffers] that
// hold them: from grpc-go's default pool of buffers when n is above its
// threshold for pooling, a plain allocation below it. Free the Buffers when
// the message cannot be written.
func Buffer(n int) ([]byte, Buffers) {
	if mem.IsBelowBufferPoolingThreshold(n) {
		b := make([]byte, n)
		return b, Buffers{mem.SliceBuffer(b)}
	}
	pool := mem.DefaultBufferPool()
	p := pool.Get(n)
	return *p, Buffers{mem.NewBuffer(p, pool)}
}

// codec is gRPC's "proto" codec with a fast path for WireMessages: every
// other value goes to the codec it replaced, so services of protoc-generated
// types in the same process keep working unchanged.
type codec struct {
	fallback encoding.CodecV2
}

var (
	baseOnce sync.Once
	base     encoding.CodecV2
)

// init installs the codec under gRPC's "proto" name, where a gRPC server
// looks a call's codec up when it was not given one. gRPC's registry of
// codecs may only be written while a program initializes (a write while
// calls are served races with their reads), so it is written here, once,
// by the package every generated gRPC file imports, and never by a
// registration at run time. It changes nothing for other messages: the
// codec hands every value that is not a [WireMessage] to the "proto" codec
// registered before it, so services of protoc-generated types in the same
// process keep their encoding. grpcx.NewGRPCServer goes further and gives
// its servers the codec itself, and grpcx clients name it on each call,
// so a package that registers another "proto" codec later cannot take its
// place for them.
func init() { encoding.RegisterCodecV2(wireCodec()) }

// Codec returns the gRPC codec of generated messages: [WireMessage] values
// with their own methods, every other value through the "proto" codec that
// was registered before this package's (grpc-go's own, unless another
// package replaced it). grpcx clients of WireMessages name it on each call,
// and grpcx.NewGRPCServer's servers use it for every call.
func Codec() encoding.CodecV2 { return wireCodec() }

// wireCodec returns the codec over the "proto" codec that was registered
// before this package's.
func wireCodec() codec {
	baseOnce.Do(func() {
		base = encoding.GetCodecV2(proto.Name)
		if c, ok := base.(codec); ok {
			base = c.fallback
		}
	})
	return codec{fallback: base}
}

func (c codec) Name() string { return proto.Name }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(BufferedWireMessage); ok {
		return m.MarshalProtoWireBuffers()
	}
	m, ok := v.(WireMessage)
	if !ok {
		return c.fallback.Marshal(v)
	}
	b, err := m.MarshalProtoWire(nil)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(WireMessage)
	if !ok {
		return c.fallback.Unmarshal(data, v)
	}
	if len(data) == 1 {
		return m.UnmarshalProtoWire(data[0].ReadOnlyData())
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return m.UnmarshalProtoWire(buf.ReadOnlyData())
}
