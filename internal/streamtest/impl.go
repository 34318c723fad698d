package streamtest

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/typedkit/kit"
)

// Validate refuses a chunk with a negative N.
func (c Chunk) Validate() error {
	if c.N < 0 {
		return kit.InvalidArgumentError("a chunk's n must not be negative", kit.FieldViolation{Field: "n", Description: "must not be negative"})
	}
	return nil
}

// Service implements Streamer.
type Service struct{}

var _ Streamer = Service{}

// failure is the error a WatchRequest asks for, or nil.
func failure(req WatchRequest) error {
	if req.Fail == "" {
		return nil
	}
	code, ok := kit.ParseCode(req.Fail)
	if !ok {
		return kit.NewError(kit.InvalidArgument, "unknown code "+strconv.Quote(req.Fail))
	}
	return kit.NewError(code, "asked to fail with "+req.Fail)
}

// events streams what req asks for, until ctx ends.
func events(ctx context.Context, req WatchRequest) (iter.Seq2[Event, error], error) {
	if req.OpenFail {
		return nil, failure(req)
	}
	pad := strings.Repeat("x", max(0, req.Size))
	return func(yield func(Event, error) bool) {
		for i := 0; req.Count == 0 || i < req.Count; i++ {
			if req.EveryMillis > 0 {
				t := time.NewTimer(time.Duration(req.EveryMillis) * time.Millisecond)
				select {
				case <-ctx.Done():
					t.Stop()
					yield(Event{}, ctx.Err())
					return
				case <-t.C:
				}
			} else if err := ctx.Err(); err != nil {
				yield(Event{}, err)
				return
			}
			if !yield(Event{ID: req.Prefix + strconv.Itoa(i), Kind: "tick" + pad, Seq: int64(i)}, nil) {
				return
			}
		}
		if err := failure(req); err != nil {
			yield(Event{}, err)
		}
	}, nil
}

// Watch implements Streamer.
func (Service) Watch(ctx context.Context, req WatchRequest) (iter.Seq2[Event, error], error) {
	return events(ctx, req)
}

// Pointers implements Streamer.
func (Service) Pointers(ctx context.Context, req WatchRequest) (iter.Seq2[*Event, error], error) {
	seq, err := events(ctx, req)
	if err != nil {
		return nil, err
	}
	return func(yield func(*Event, error) bool) {
		for e, err := range seq {
			if !yield(&e, err) || err != nil {
				return
			}
		}
	}, nil
}

// Words implements Streamer.
func (Service) Words(_ context.Context, text string) (iter.Seq2[string, error], error) {
	if text == "" {
		return nil, kit.NewError(kit.InvalidArgument, "no text")
	}
	return func(yield func(string, error) bool) {
		for w := range strings.FieldsSeq(text) {
			if !yield(w, nil) {
				return
			}
		}
	}, nil
}

// Upload implements Streamer.
func (Service) Upload(_ context.Context, chunks iter.Seq2[Chunk, error]) (Summary, error) {
	var s Summary
	for c, err := range chunks {
		if err != nil {
			return Summary{}, err
		}
		s.Bytes += int64(len(c.Data))
		s.Count++
	}
	return s, nil
}

// Chat implements Streamer.
func (Service) Chat(_ context.Context, in iter.Seq2[Event, error]) (iter.Seq2[Event, error], error) {
	return func(yield func(Event, error) bool) {
		for e, err := range in {
			if err != nil {
				yield(Event{}, err)
				return
			}
			if e.Kind == "fail" {
				yield(Event{}, errors.New("a chat message asked to fail: this text is not for the caller"))
				return
			}
			if !yield(Event{ID: e.ID, Kind: "echo", Seq: e.Seq}, nil) {
				return
			}
		}
	}, nil
}

// Ping implements Streamer.
func (Service) Ping(_ context.Context, id string) (string, error) { return id, nil }
