package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/internal/jsonx"
)

// JSONContentType is the Content-Type of JSON bodies.
const JSONContentType = "application/json"

// jsonHeader is shared by every response that sets Content-Type to JSON.
// http.Header.Set and Add never write into a slice they did not make, so
// sharing it saves an allocation per response.
var jsonHeader = []string{JSONContentType}

// bufPool holds buffers for reading request and response bodies.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the largest buffer returned to a pool; larger ones are
// left to the garbage collector so one big body does not pin its memory.
const maxPooledBuffer = 64 << 10

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		b.Reset()
		bufPool.Put(b)
	}
}

// jsonWriter is a buffer with a json.Encoder that writes through it into a
// response, pooled together so encoding a response allocates neither. A
// body of up to [jsonStreamThreshold] bytes is kept in the buffer and
// written at once when it is complete; a larger one goes to the response as
// the encoder writes it, so the buffer never holds more than the threshold
// and stays in the pool.
type jsonWriter struct {
	buf bytes.Buffer
	enc *json.Encoder
	// w is the response being written, while the encoder runs.
	w http.ResponseWriter
	// streaming is set once the body was found too large to keep: its
	// first bytes were written, and so was the status, 200.
	streaming bool
}

// jsonStreamThreshold is the largest JSON response body that is kept whole
// before it is written: a response that fails to encode up to that size
// is answered with its error's status; past it, the body goes out as it is
// encoded, and a failure then aborts the response.
const jsonStreamThreshold = maxPooledBuffer

var jsonWriterPool = sync.Pool{New: func() any {
	jw := new(jsonWriter)
	jw.enc = json.NewEncoder(jw)
	return jw
}}

func putJSONWriter(jw *jsonWriter) {
	jw.buf.Reset()
	jw.w, jw.streaming = nil, false
	jsonWriterPool.Put(jw)
}

// Write keeps p while the body fits under the threshold, and otherwise
// writes what it kept and p to the response.
func (jw *jsonWriter) Write(p []byte) (int, error) {
	if !jw.streaming {
		if jw.buf.Len()+len(p) <= jsonStreamThreshold {
			return jw.buf.Write(p)
		}
		jw.streaming = true
		jw.w.Header()["Content-Type"] = jsonHeader
		if jw.buf.Len() > 0 {
			if _, err := jw.w.Write(jw.buf.Bytes()); err != nil {
				return 0, err
			}
			jw.buf.Reset()
		}
	}
	return jw.w.Write(p)
}

// encodeJSONBody writes the body that encode produces into w through the pooled
// writer: kept and written whole up to the threshold, streamed past it. It
// returns encode's error or the response's, and with it the response is
// either untouched (nothing was written, so the error can still be
// answered with its status) or begun, and must be aborted.
func encodeJSONBody(w http.ResponseWriter, encode func(*jsonWriter) error) error {
	jw := jsonWriterPool.Get().(*jsonWriter)
	jw.w = w
	if err := encode(jw); err != nil {
		// A json.Encoder keeps a writer's error and returns it from every
		// later Encode: the pooled writer gets a new one.
		jw.enc = json.NewEncoder(jw)
		putJSONWriter(jw)
		return err
	}
	var err error
	if !jw.streaming {
		w.Header()["Content-Type"] = jsonHeader
		_, err = w.Write(jw.buf.Bytes())
	}
	putJSONWriter(jw)
	return err
}

// DecodeJSONRequest decodes a JSON request body into a Req. Fields the Req
// does not have are ignored; see [DecodeJSONRequestStrict]. An empty body
// decodes to the zero Req. A body with a Content-Type other than
// application/json (or a +json type) is answered 415, malformed JSON or a
// value of the wrong type 400 with a message that says what and where.
func DecodeJSONRequest[Req any](_ context.Context, r *http.Request) (Req, error) {
	return decodeJSONRequest[Req](r, false)
}

// DecodeJSONRequestStrict is [DecodeJSONRequest] that answers 400 to a body
// with a field the Req does not have.
func DecodeJSONRequestStrict[Req any](_ context.Context, r *http.Request) (Req, error) {
	return decodeJSONRequest[Req](r, true)
}

func decodeJSONRequest[Req any](r *http.Request, strict bool) (Req, error) {
	return decodeBody(r, isJSONMediaType, JSONContentType, func(data []byte, req *Req) error {
		return unmarshalJSON(data, req, strict)
	})
}

// decodeBody reads a request body into a pooled buffer and, unless it is
// empty (the zero Req), checks its Content-Type with accept (415 naming
// want otherwise) and decodes it with unmarshal.
func decodeBody[Req any](r *http.Request, accept func(string) bool, want string, unmarshal func([]byte, *Req) error) (Req, error) {
	var req Req
	if r.Body == nil || r.Body == http.NoBody {
		return req, nil
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return req, err
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return req, nil
	}
	if ct := r.Header.Get("Content-Type"); !accept(ct) {
		return req, unsupportedMediaType(ct, want)
	}
	if err := unmarshal(buf.Bytes(), &req); err != nil {
		return req, err
	}
	return req, nil
}

// unmarshalJSON decodes data into v and gives errors a message that says
// what was wrong and where.
func unmarshalJSON(data []byte, v any, strict bool) error {
	return jsonx.Unmarshal(data, v, strict, hasCode)
}

// isJSONMediaType reports whether ct names application/json or a +json
// type, with any parameters.
func isJSONMediaType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	if strings.EqualFold(mt, JSONContentType) {
		return true
	}
	slash := strings.IndexByte(mt, '/')
	return slash > 0 && len(mt) > 5 && strings.EqualFold(mt[len(mt)-5:], "+json")
}

// unsupportedMediaType is the error for a body whose Content-Type a decoder
// does not read: 415 with the type given and the one wanted.
func unsupportedMediaType(got, want string) error {
	msg := fmt.Sprintf("unsupported Content-Type %q: want %s", got, want)
	if got == "" {
		msg = "missing Content-Type: want " + want
	}
	return &StatusError{Status: http.StatusUnsupportedMediaType, Err: kit.NewError(kit.InvalidArgument, msg)}
}

// EncodeJSONResponse writes resp as JSON with the Content-Type
// application/json and the status 200. A body of up to 64 KiB is encoded
// whole before its first byte is written, so that a value that cannot be
// encoded is answered with the error's status (500 unless the error has a
// code); a larger body is written as it is encoded, without a copy of it
// all, and a failure after its first byte makes the [Server] abort the
// response, which the client sees as a broken one, never as a success.
func EncodeJSONResponse[Resp any](_ context.Context, w http.ResponseWriter, resp Resp) error {
	return encodeJSONBody(w, func(jw *jsonWriter) error { return jw.enc.Encode(resp) })
}

// EncodeJSONRequest writes req as the JSON body of an outgoing request, with
// the Content-Type application/json.
func EncodeJSONRequest[Req any](_ context.Context, r *http.Request, req Req) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	r.Header["Content-Type"] = jsonHeader
	setBody(r, body)
	return nil
}

// setBody makes body the request's body, replayable for redirects and
// retries of the http.Client.
func setBody(r *http.Request, body []byte) {
	r.ContentLength = int64(len(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// DecodeJSONResponse decodes a JSON response body into a Resp. An empty body
// decodes to the zero Resp.
func DecodeJSONResponse[Resp any](_ context.Context, r *http.Response) (Resp, error) {
	var resp Resp
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return resp, err
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return resp, nil
	}
	if err := json.Unmarshal(buf.Bytes(), &resp); err != nil {
		return resp, err
	}
	return resp, nil
}
