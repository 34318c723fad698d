package streamtest

import "iter"

// Collect ranges over seq to its end and returns its elements, and the
// error that ended it, if one did.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Chunks returns an upload of one chunk of "abc" for each n, with that N.
func Chunks(ns ...int64) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		for _, n := range ns {
			if !yield(Chunk{Data: []byte("abc"), N: n}, nil) {
				return
			}
		}
	}
}
