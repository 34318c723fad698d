package httpx

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/typedkit/kit"
)

// RawCodec reads and writes bodies of one media type for values of type T
// with a pair of functions, for formats such as protobuf or MessagePack:
//
//	func protoCodec[T any, PT interface {
//		*T
//		proto.Message
//	}]() httpx.RawCodec[PT] {
//		return httpx.RawCodec[PT]{
//			ContentType: "application/x-protobuf",
//			Marshal:     func(m PT) ([]byte, error) { return proto.Marshal(m) },
//			Unmarshal:   func(b []byte, m *PT) error { *m = PT(new(T)); return proto.Unmarshal(b, *m) },
//		}
//	}
//
//	httpx.NewServer(ep, protoCodec[pb.GetUser]().DecodeRequest, protoCodec[pb.User]().EncodeResponse)
//
// Its methods have the types of the transport's codec functions, so the
// method values serve as a server's or a client's decoder and encoder.
// Bad input is answered as JSON's is: 413 past the server's body limit, 415
// for another Content-Type, 400 when Unmarshal fails.
type RawCodec[T any] struct {
	// ContentType is the media type of the bodies, such as
	// "application/x-protobuf". Requests must carry it (parameters
	// aside); responses and outgoing requests are sent with it as is.
	ContentType string
	// Marshal returns the body for a value.
	Marshal func(T) ([]byte, error)
	// Unmarshal reads a body into a value. Its error is answered 400: a
	// *kit.Error as it is, any other error as InvalidArgument with a
	// message that names the media type and quotes the error. The slice
	// is not reused, so Unmarshal may keep it.
	Unmarshal func([]byte, *T) error
}

// DecodeRequest reads the request body into a T with Unmarshal. An empty
// body decodes to the zero T without calling Unmarshal.
func (c RawCodec[T]) DecodeRequest(_ context.Context, r *http.Request) (T, error) {
	var v T
	if r.Body == nil || r.Body == http.NoBody {
		return v, nil
	}
	body, err := readBody(r.Body, r.ContentLength)
	if err != nil || len(body) == 0 {
		return v, err
	}
	if ct := r.Header.Get("Content-Type"); !contentTypeMatches(ct, c.ContentType) {
		return v, unsupportedMediaType(ct, mediaType(c.ContentType))
	}
	if err := c.Unmarshal(body, &v); err != nil {
		return v, c.unmarshalError(err)
	}
	return v, nil
}

func (c RawCodec[T]) unmarshalError(err error) error {
	if hasCode(err) {
		return err
	}
	return kit.WrapError(kit.InvalidArgument, err, "malformed "+mediaType(c.ContentType)+" body")
}

// EncodeResponse writes v, marshalled, with the codec's Content-Type and
// the status 200.
func (c RawCodec[T]) EncodeResponse(_ context.Context, w http.ResponseWriter, v T) error {
	body, err := c.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", c.ContentType)
	_, err = w.Write(body)
	return err
}

// EncodeRequest makes v, marshalled, the body of an outgoing request, with
// the codec's Content-Type.
func (c RawCodec[T]) EncodeRequest(_ context.Context, r *http.Request, v T) error {
	body, err := c.Marshal(v)
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", c.ContentType)
	setBody(r, body)
	return nil
}

// DecodeResponse reads a response body into a T with Unmarshal. An empty
// body decodes to the zero T.
func (c RawCodec[T]) DecodeResponse(_ context.Context, r *http.Response) (T, error) {
	var v T
	body, err := readBody(r.Body, r.ContentLength)
	if err != nil || len(body) == 0 {
		return v, err
	}
	err = c.Unmarshal(body, &v)
	return v, err
}

// Encoder returns the codec's response encoder as a [MediaEncoder], for
// [NegotiateResponse].
func (c RawCodec[T]) Encoder() MediaEncoder[T] {
	return MediaEncoder[T]{ContentType: c.ContentType, Encode: c.EncodeResponse}
}

// Decoder returns the codec's request decoder as a [MediaDecoder], for
// [DecodeByContentType].
func (c RawCodec[T]) Decoder() MediaDecoder[T] {
	return MediaDecoder[T]{ContentType: c.ContentType, Decode: c.DecodeRequest}
}

// maxSizeHint bounds the buffer allocated up front from a Content-Length,
// so a false length cannot make the server allocate more than it reads.
const maxSizeHint = 1 << 20

// readBody reads all of body into a new slice, sized from the
// Content-Length when it is known.
func readBody(body io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > maxSizeHint {
		size = 0
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(body)
	return buf.Bytes(), err
}
