package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/typedkit/kit"
)

// FormContentType is the Content-Type of URL-encoded form bodies.
const FormContentType = "application/x-www-form-urlencoded"

// MultipartFormContentType is the media type of multipart form bodies; a
// request also carries a boundary parameter.
const MultipartFormContentType = "multipart/form-data"

// DefaultMultipartMemory is how much of a multipart form's files
// [ReadMultipartForm] keeps in memory when given no other limit: 32 MiB, as
// net/http does. The rest goes to temporary files.
const DefaultMultipartMemory = 32 << 20

// ReadForm reads the URL-encoded form in the request body. It reads only
// the body, not the URL's query. An empty body is an empty form. A body with
// a Content-Type other than application/x-www-form-urlencoded is answered
// 415, one that does not parse 400; a body past a Server's limit fails with
// an *http.MaxBytesError, which the Server answers 413.
func ReadForm(r *http.Request) (url.Values, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return url.Values{}, nil
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(buf.Bytes())
	if len(body) == 0 {
		return url.Values{}, nil
	}
	if ct := r.Header.Get("Content-Type"); !strings.EqualFold(mediaType(ct), FormContentType) {
		return nil, unsupportedMediaType(ct, FormContentType)
	}
	vs, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, kit.WrapError(kit.InvalidArgument, err, "malformed form body: "+err.Error())
	}
	return vs, nil
}

// DecodeFormRequest returns a decoder that reads a URL-encoded form body
// with [ReadForm] and makes a Req of its values with parse. An error of
// parse is answered 400: a *kit.Error as it is (with its violations), any
// other error as a [kit.Conceal]ed InvalidArgument, its text kept from the
// caller.
func DecodeFormRequest[Req any](parse func(url.Values) (Req, error)) DecodeRequestFunc[Req] {
	return func(_ context.Context, r *http.Request) (Req, error) {
		vs, err := ReadForm(r)
		if err != nil {
			var zero Req
			return zero, err
		}
		req, err := parse(vs)
		if err != nil {
			return req, formError(err)
		}
		return req, nil
	}
}

func formError(err error) error {
	if hasCode(err) {
		return err
	}
	return kit.Conceal(kit.InvalidArgument, err)
}

// EncodeFormRequest returns a client encoder that sends the values that
// values makes of each request as a URL-encoded form body.
func EncodeFormRequest[Req any](values func(Req) url.Values) EncodeRequestFunc[Req] {
	return func(_ context.Context, r *http.Request, req Req) error {
		r.Header.Set("Content-Type", FormContentType)
		setBody(r, []byte(values(req).Encode()))
		return nil
	}
}

// ReadMultipartForm reads the multipart form in the request body, keeping
// up to maxMemory bytes of its files in memory (DefaultMultipartMemory when
// maxMemory is 0 or less) and the rest in temporary files. The whole body
// stays within a Server's body limit (413 past it), so raise the limit with
// [ServerMaxBodyBytes] on routes that take large uploads.
//
// The form is also stored in r.MultipartForm, so net/http removes its
// temporary files when the handler returns: the files may be read until
// the endpoint returns, not after. An empty body is an empty form. A body
// with another Content-Type is answered 415; one without a boundary, or
// that does not parse, 400; one with more parts or headers than
// mime/multipart allows 413.
func ReadMultipartForm(r *http.Request, maxMemory int64) (*multipart.Form, error) {
	if r.MultipartForm != nil {
		return r.MultipartForm, nil
	}
	if r.Body == nil || r.Body == http.NoBody {
		return &multipart.Form{Value: map[string][]string{}, File: map[string][]*multipart.FileHeader{}}, nil
	}
	ct := r.Header.Get("Content-Type")
	if !strings.EqualFold(mediaType(ct), MultipartFormContentType) {
		return nil, unsupportedMediaType(ct, MultipartFormContentType)
	}
	_, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, kit.WrapError(kit.InvalidArgument, err, "malformed Content-Type: "+err.Error())
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, kit.NewError(kit.InvalidArgument, "malformed multipart body: no boundary in the Content-Type")
	}
	if maxMemory <= 0 {
		maxMemory = DefaultMultipartMemory
	}
	form, err := multipart.NewReader(r.Body, boundary).ReadForm(maxMemory)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, mbe
		case errors.Is(err, multipart.ErrMessageTooLarge):
			return nil, &StatusError{Status: http.StatusRequestEntityTooLarge,
				Err: kit.WrapError(kit.ResourceExhausted, err, "multipart form too large: too many parts, headers or bytes of values")}
		}
		return nil, kit.WrapError(kit.InvalidArgument, err, "malformed multipart body: "+multipartMessage(err))
	}
	r.MultipartForm = form
	return form, nil
}

// multipartMessage says what was wrong with a multipart body that
// mime/multipart could not read.
func multipartMessage(err error) string {
	switch {
	case errors.Is(err, io.EOF):
		return "no part delimited by the boundary"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	msg := strings.TrimPrefix(err.Error(), "multipart: ")
	return strings.TrimPrefix(msg, "NextPart: ")
}

// DecodeMultipartRequest returns a decoder that reads a multipart form body
// with [ReadMultipartForm] and makes a Req of it with parse. parse may keep
// the form's file headers in the Req; they may be opened until the
// endpoint returns. An error of parse is answered as [DecodeFormRequest]
// answers one.
func DecodeMultipartRequest[Req any](maxMemory int64, parse func(*multipart.Form) (Req, error)) DecodeRequestFunc[Req] {
	return func(_ context.Context, r *http.Request) (Req, error) {
		form, err := ReadMultipartForm(r, maxMemory)
		if err != nil {
			var zero Req
			return zero, err
		}
		req, err := parse(form)
		if err != nil {
			return req, formError(err)
		}
		return req, nil
	}
}
