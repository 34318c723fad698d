package genrt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/jsonx"
)

// The functions of this file are the HTTP glue's JSON bodies with the
// codecs kitgen generates: a JSONReader and a JSONWrite function per type.
// Each behaves as the function of package httpx of the same name does
// (the same Content-Type checks, status codes and error bodies), and hands
// the call to it when the context carries httpx.ContextWithStandardJSON.

// A JSONReader reads a value of type T from a JSONDecoder, as
// json.Unmarshal reads it into a *T.
type JSONReader[T any] func(d *JSONDecoder, v *T)

// A JSONWrite writes a value of type T to a JSONWriter, as json.Marshal
// writes it.
type JSONWrite[T any] func(w *JSONWriter, v *T)

// jsonState is a pooled buffer, writer and decoder.
type jsonState struct {
	buf bytes.Buffer
	w   JSONWriter
	d   JSONDecoder
}

var jsonPool = sync.Pool{New: func() any { return new(jsonState) }}

// maxPooled is the largest buffer returned to the pool, as in httpx.
const maxPooled = 64 << 10

func putJSON(s *jsonState) {
	if s.buf.Cap() > maxPooled || cap(s.w.B) > maxPooled || cap(s.d.scratch) > maxPooled {
		return
	}
	s.buf.Reset()
	s.w.Reset()
	s.d.ResetJSON(nil)
	jsonPool.Put(s)
}

// UnmarshalJSON reads data into v with read: the whole of data must be one
// JSON value. Errors are encoding/json's.
func UnmarshalJSON[T any](data []byte, v *T, read JSONReader[T]) error {
	s := jsonPool.Get().(*jsonState)
	defer putJSON(s)
	s.d.ResetJSON(data)
	read(&s.d, v)
	s.d.End()
	return s.d.Err()
}

// MarshalJSON returns v written with write: what json.Marshal returns.
func MarshalJSON[T any](v *T, write JSONWrite[T]) ([]byte, error) {
	var w JSONWriter
	write(&w, v)
	if err := w.Err(); err != nil {
		return nil, err
	}
	return w.B, nil
}

// DecodeJSONRequest is httpx.DecodeJSONRequest with read.
func DecodeJSONRequest[T any](ctx context.Context, r *http.Request, read JSONReader[T]) (T, error) {
	var req T
	if httpx.StandardJSONFrom(ctx) {
		return httpx.DecodeJSONRequest[T](ctx, r)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return req, nil
	}
	s := jsonPool.Get().(*jsonState)
	defer putJSON(s)
	if _, err := s.buf.ReadFrom(r.Body); err != nil {
		return req, err
	}
	if len(bytes.TrimSpace(s.buf.Bytes())) == 0 {
		return req, nil
	}
	if ct := r.Header.Get("Content-Type"); !isJSONMediaType(ct) {
		return req, unsupportedMediaType(ct)
	}
	s.d.ResetJSON(s.buf.Bytes())
	read(&s.d, &req)
	s.d.End()
	if err := s.d.Err(); err != nil {
		return req, jsonx.Error(err, hasCode)
	}
	return req, nil
}

// jsonHeader is shared by every response with a JSON body: http.Header's
// methods never write into a slice they did not make.
var jsonHeader = []string{httpx.JSONContentType}

// JSONResponseEncoder returns httpx.EncodeJSONResponse with write.
func JSONResponseEncoder[T any](write JSONWrite[T]) httpx.EncodeResponseFunc[T] {
	return func(ctx context.Context, w http.ResponseWriter, resp T) error {
		if httpx.StandardJSONFrom(ctx) {
			return httpx.EncodeJSONResponse(ctx, w, resp)
		}
		s := jsonPool.Get().(*jsonState)
		defer putJSON(s)
		write(&s.w, &resp)
		if err := s.w.Err(); err != nil {
			return err
		}
		s.w.B = append(s.w.B, '\n') // as json.Encoder ends a value
		w.Header()["Content-Type"] = jsonHeader
		_, err := w.Write(s.w.B)
		return err
	}
}

// EncodeJSONRequest is httpx.EncodeJSONRequest with write.
func EncodeJSONRequest[T any](ctx context.Context, r *http.Request, req T, write JSONWrite[T]) error {
	if httpx.StandardJSONFrom(ctx) {
		return httpx.EncodeJSONRequest(ctx, r, req)
	}
	body, err := MarshalJSON(&req, write)
	if err != nil {
		return err
	}
	r.Header["Content-Type"] = jsonHeader
	r.ContentLength = int64(len(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return nil
}

// JSONResponseDecoder returns httpx.DecodeJSONResponse with read.
func JSONResponseDecoder[T any](read JSONReader[T]) httpx.DecodeResponseFunc[T] {
	return func(ctx context.Context, r *http.Response) (T, error) {
		if httpx.StandardJSONFrom(ctx) {
			return httpx.DecodeJSONResponse[T](ctx, r)
		}
		var resp T
		s := jsonPool.Get().(*jsonState)
		defer putJSON(s)
		if _, err := s.buf.ReadFrom(r.Body); err != nil {
			return resp, err
		}
		if len(bytes.TrimSpace(s.buf.Bytes())) == 0 {
			return resp, nil
		}
		s.d.ResetJSON(s.buf.Bytes())
		read(&s.d, &resp)
		s.d.End()
		return resp, s.d.Err()
	}
}

// isJSONMediaType is httpx's test of a JSON Content-Type: application/json
// or a +json type, with any parameters.
func isJSONMediaType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	if strings.EqualFold(mt, httpx.JSONContentType) {
		return true
	}
	slash := strings.IndexByte(mt, '/')
	return slash > 0 && len(mt) > 5 && strings.EqualFold(mt[len(mt)-5:], "+json")
}

func unsupportedMediaType(got string) error {
	msg := fmt.Sprintf("unsupported Content-Type %q: want %s", got, httpx.JSONContentType)
	if got == "" {
		msg = "missing Content-Type: want " + httpx.JSONContentType
	}
	return &httpx.StatusError{Status: http.StatusUnsupportedMediaType, Err: kit.NewError(kit.InvalidArgument, msg)}
}

// hasCode is httpx's test of an error that says its own status: the coded
// error of a value's UnmarshalJSON is answered as it is.
func hasCode(err error) bool {
	var ke *kit.Error
	var kc kit.Coder
	var sc httpx.StatusCoder
	return errors.As(err, &ke) || errors.As(err, &kc) || errors.As(err, &sc) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
