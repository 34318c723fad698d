package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/typedkit/kit"
)

// A MediaEncoder is a response encoder with the media type it writes.
// [NegotiateResponse] picks one of several by the request's Accept header.
type MediaEncoder[Resp any] struct {
	// ContentType is the media type the encoder writes, such as
	// "application/json", without parameters.
	ContentType string
	// Encode writes the response; it sets the Content-Type header itself.
	Encode EncodeResponseFunc[Resp]
}

// A MediaDecoder is a request decoder with the media type it reads.
// [DecodeByContentType] picks one of several by the request's Content-Type.
type MediaDecoder[Req any] struct {
	// ContentType is the media type the decoder reads, such as
	// "application/json". application/json also matches +json types, and
	// application/xml matches text/xml and +xml types.
	ContentType string
	// Decode reads the request.
	Decode DecodeRequestFunc[Req]
}

// JSONEncoder returns the MediaEncoder of [EncodeJSONResponse].
func JSONEncoder[Resp any]() MediaEncoder[Resp] {
	return MediaEncoder[Resp]{ContentType: JSONContentType, Encode: EncodeJSONResponse[Resp]}
}

// XMLEncoder returns the MediaEncoder of [EncodeXMLResponse].
func XMLEncoder[Resp any]() MediaEncoder[Resp] {
	return MediaEncoder[Resp]{ContentType: XMLContentType, Encode: EncodeXMLResponse[Resp]}
}

// JSONDecoder returns the MediaDecoder of [DecodeJSONRequest].
func JSONDecoder[Req any]() MediaDecoder[Req] {
	return MediaDecoder[Req]{ContentType: JSONContentType, Decode: DecodeJSONRequest[Req]}
}

// XMLDecoder returns the MediaDecoder of [DecodeXMLRequest].
func XMLDecoder[Req any]() MediaDecoder[Req] {
	return MediaDecoder[Req]{ContentType: XMLContentType, Decode: DecodeXMLRequest[Req]}
}

// errNoRequest is the error of a negotiating encoder given a
// ResponseWriter that no [Server] made, such as an httptest recorder: it
// has no request whose Accept header it could read. It is answered 500 and
// logged.
var errNoRequest = kit.WrapError(kit.Internal,
	errors.New("httpx: content negotiation needs the ResponseWriter an httpx.Server gives its encoders, or one whose Unwrap method returns it"), "")

// requestOf returns the request that w answers: the one the [Server] that
// made w serves, found through writers that wrap it with an
// Unwrap() http.ResponseWriter method (as http.ResponseController expects
// of them). It returns nil for a writer no Server made.
func requestOf(w http.ResponseWriter) *http.Request {
	for w != nil {
		switch t := w.(type) {
		case *interceptingWriter:
			return t.req
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// NegotiateContentType returns the offer preferred by the Accept header of
// the request that w answers, for encoders (and error encoders) that
// negotiate by themselves. w is the ResponseWriter the [Server] gave the
// encoder, or one that wraps it and returns it from an
// Unwrap() http.ResponseWriter method; given another writer, such as an
// httptest recorder, the error is Internal.
//
// Each offer gets the quality of the most specific media range that matches
// it (type/subtype over type/* over */*); the offer with the highest
// quality above zero wins, then the one matched more specifically, then
// the one listed first. Parameters other than q are ignored. A request
// without an Accept header, or with none that parses, gets the first
// offer. When no offer is acceptable the error is a [StatusError] with the
// status 406 and the code InvalidArgument.
func NegotiateContentType(w http.ResponseWriter, offers ...string) (string, error) {
	i, err := negotiateWriter(w, offers)
	if err != nil {
		return "", err
	}
	return offers[i], nil
}

// negotiateWriter is NegotiateContentType returning the index of the offer.
func negotiateWriter(w http.ResponseWriter, offers []string) (int, error) {
	r := requestOf(w)
	if r == nil {
		return 0, errNoRequest
	}
	return negotiateHeader(r.Header["Accept"], offers)
}

func negotiateHeader(accept, offers []string) (int, error) {
	if i := negotiate(accept, offers); i >= 0 {
		return i, nil
	}
	return 0, notAcceptable(accept, offers)
}

// notAcceptable is the error for an Accept header that matches no offer.
func notAcceptable(accept, offers []string) error {
	a := strings.Join(accept, ", ")
	if len(a) > 128 {
		a = a[:128] + "…"
	}
	msg := "not acceptable: Accept " + strconv.Quote(a) + " matches none of " + strings.Join(offers, ", ")
	return &StatusError{Status: http.StatusNotAcceptable, Err: kit.NewError(kit.InvalidArgument, msg)}
}

// negotiate returns the index of the offer the Accept header values
// prefer, or -1 when none is acceptable. See NegotiateContentType for the
// rules.
func negotiate(accept, offers []string) int {
	if len(offers) == 0 {
		return -1
	}
	best, bestQ, bestSpec := -1, 0, 0
	parsed := false
	for i, offer := range offers {
		q, spec, ok := acceptQuality(accept, mediaType(offer))
		parsed = parsed || ok
		if spec == 0 || q == 0 {
			continue
		}
		if q > bestQ || (q == bestQ && spec > bestSpec) {
			best, bestQ, bestSpec = i, q, spec
		}
	}
	if !parsed {
		return 0
	}
	return best
}

// acceptQuality returns the quality in thousandths that the Accept header
// values give the offer, the specificity of the range that gives it (3 for
// type/subtype, 2 for type/*, 1 for */*, 0 when none matches), and whether
// any media range parsed at all.
func acceptQuality(accept []string, offer string) (q, spec int, parsed bool) {
	otype, osub, _ := strings.Cut(offer, "/")
	for _, line := range accept {
		for line != "" {
			var rng string
			rng, line, _ = strings.Cut(line, ",")
			rtype, rsub, rq, ok := parseMediaRange(rng)
			if !ok {
				continue
			}
			parsed = true
			s := 0
			switch {
			case rtype == "*":
				s = 1
			case !strings.EqualFold(rtype, otype):
				continue
			case rsub == "*":
				s = 2
			case strings.EqualFold(rsub, osub):
				s = 3
			default:
				continue
			}
			if s > spec {
				spec, q = s, rq
			}
		}
	}
	return q, spec, parsed
}

// parseMediaRange parses one media range of an Accept header: its type, its
// subtype and its quality in thousandths (1000 when it has no q parameter).
// It reports false for a range that does not parse, which is then ignored.
func parseMediaRange(s string) (typ, sub string, q int, ok bool) {
	mt, params, _ := strings.Cut(s, ";")
	typ, sub, ok = strings.Cut(strings.TrimSpace(mt), "/")
	if !ok || !isToken(typ) || !isToken(sub) || (typ == "*" && sub != "*") {
		return "", "", 0, false
	}
	q = 1000
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		if q, ok = parseQuality(strings.TrimSpace(value)); !ok {
			return "", "", 0, false
		}
		// Parameters after q are accept extensions, which say nothing
		// about the media type.
		break
	}
	return typ, sub, q, true
}

// parseQuality parses a qvalue (RFC 9110, section 12.4.2): 0 to 1 with at
// most three decimals, in thousandths.
func parseQuality(s string) (int, bool) {
	if s == "" || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	rest := s[1:]
	if rest == "" {
		return q, true
	}
	if rest[0] != '.' || len(rest) > 4 {
		return 0, false
	}
	scale := 100
	for _, c := range []byte(rest[1:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}

// isToken reports whether s is a non-empty HTTP token (RFC 9110, section
// 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// mediaType returns the media type of a Content-Type or offer, without
// parameters and surrounding space.
func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

// contentTypeMatches reports whether the Content-Type ct is one that a
// decoder of the media type want reads: the same type, or for JSON and XML
// one of their structured-syntax types.
func contentTypeMatches(ct, want string) bool {
	mt, w := mediaType(ct), mediaType(want)
	switch {
	case mt == "":
		return false
	case strings.EqualFold(mt, w):
		return true
	case strings.EqualFold(w, JSONContentType):
		return isJSONMediaType(mt)
	case strings.EqualFold(w, XMLContentType):
		return isXMLMediaType(mt)
	}
	return false
}

// varyAccept is shared by responses that vary by Accept and set no other
// Vary header, as jsonHeader is for the Content-Type.
var varyAccept = []string{"Accept"}

func addVaryAccept(h http.Header) {
	if len(h["Vary"]) == 0 {
		h["Vary"] = varyAccept
		return
	}
	h.Add("Vary", "Accept")
}

// NegotiateResponse returns an encoder that writes each response with the
// encoder whose media type the request's Accept header prefers (see
// [NegotiateContentType] for the rules), the first one when the request
// states no preference, and sets Vary: Accept.
//
// When none of the media types is acceptable the response is a 406 problem.
// By then the endpoint has run; to answer 406 before it, wrap the decoder
// with [RequireAcceptable]. NegotiateResponse panics without encoders.
func NegotiateResponse[Resp any](encoders ...MediaEncoder[Resp]) EncodeResponseFunc[Resp] {
	if len(encoders) == 0 {
		panic("httpx: NegotiateResponse needs at least one encoder")
	}
	encoders = append([]MediaEncoder[Resp](nil), encoders...)
	offers := make([]string, len(encoders))
	for i, e := range encoders {
		offers[i] = mediaType(e.ContentType)
	}
	return func(ctx context.Context, w http.ResponseWriter, resp Resp) error {
		i, err := negotiateWriter(w, offers)
		if err != nil {
			return err
		}
		addVaryAccept(w.Header())
		return encoders[i].Encode(ctx, w, resp)
	}
}

// RequireAcceptable returns a decoder that answers 406, before dec runs and
// so before the endpoint, a request whose Accept header accepts none of
// the content types. Use it with a negotiating encoder on routes whose
// endpoint has effects. RequireAcceptable panics without content types.
func RequireAcceptable[Req any](dec DecodeRequestFunc[Req], contentTypes ...string) DecodeRequestFunc[Req] {
	if len(contentTypes) == 0 {
		panic("httpx: RequireAcceptable needs at least one content type")
	}
	offers := make([]string, len(contentTypes))
	for i, ct := range contentTypes {
		offers[i] = mediaType(ct)
	}
	return func(ctx context.Context, r *http.Request) (Req, error) {
		if _, err := negotiateHeader(r.Header["Accept"], offers); err != nil {
			var zero Req
			return zero, err
		}
		return dec(ctx, r)
	}
}

// DecodeByContentType returns a decoder that reads each request with the
// first decoder whose media type matches the request's Content-Type. A
// request with an empty body decodes to the zero Req; one with a body of
// another Content-Type is answered 415, naming the types the decoders read.
// DecodeByContentType panics without decoders.
func DecodeByContentType[Req any](decoders ...MediaDecoder[Req]) DecodeRequestFunc[Req] {
	if len(decoders) == 0 {
		panic("httpx: DecodeByContentType needs at least one decoder")
	}
	decoders = append([]MediaDecoder[Req](nil), decoders...)
	names := make([]string, len(decoders))
	for i, d := range decoders {
		names[i] = mediaType(d.ContentType)
	}
	want := orList(names)
	return func(ctx context.Context, r *http.Request) (Req, error) {
		ct := r.Header.Get("Content-Type")
		for _, d := range decoders {
			if contentTypeMatches(ct, d.ContentType) {
				return d.Decode(ctx, r)
			}
		}
		return noDecoder[Req](r, ct, want)
	}
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// noDecoder answers a request whose Content-Type no decoder reads: the zero
// Req for an empty body, 415 otherwise.
func noDecoder[Req any](r *http.Request, ct, want string) (Req, error) {
	var req Req
	empty, err := bodyIsBlank(r)
	if err != nil {
		return req, err
	}
	if empty {
		return req, nil
	}
	return req, unsupportedMediaType(ct, want)
}

// bodyIsBlank reads the request body up to its first byte that is not
// white space, and reports whether there is none.
func bodyIsBlank(r *http.Request) (bool, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return true, nil
	}
	var buf [512]byte
	for {
		n, err := r.Body.Read(buf[:])
		for _, c := range buf[:n] {
			switch c {
			case ' ', '\t', '\r', '\n':
			default:
				return false, nil
			}
		}
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}
