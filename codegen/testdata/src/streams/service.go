package streams

import (
	"context"
	"iter"
)

type Event struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
}
type Chunk struct {
	Data []byte `json:"data"`
	N    int64  `json:"n"`
}
type Summary struct {
	Bytes int64 `json:"bytes"`
	Count int   `json:"count"`
}
type WatchRequest struct {
	Prefix string `json:"prefix"`
}

// Streamer streams every way.
//
//go:generate go run github.com/typedkit/kit/codegen/cmd/kitgen -type Streamer -transports http,grpc,mcp,typescript
type Streamer interface {
	Watch(ctx context.Context, req WatchRequest) (iter.Seq2[Event, error], error)
	Upload(ctx context.Context, chunks iter.Seq2[Chunk, error]) (Summary, error)
	Chat(ctx context.Context, in iter.Seq2[Event, error]) (iter.Seq2[Event, error], error)
	Ping(ctx context.Context, id string) (string, error)
}
