package httpx

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/typedkit/kit"
)

// XMLContentType is the Content-Type of XML bodies.
const XMLContentType = "application/xml"

// xmlHeader is shared by every response that sets Content-Type to XML, as
// jsonHeader is for JSON.
var xmlHeader = []string{XMLContentType}

// xmlWriter is a buffer with an xml.Encoder that writes into it, pooled
// together so encoding a response allocates neither.
type xmlWriter struct {
	buf bytes.Buffer
	enc *xml.Encoder
}

var xmlWriterPool = sync.Pool{New: func() any {
	xw := new(xmlWriter)
	xw.enc = xml.NewEncoder(&xw.buf)
	return xw
}}

func putXMLWriter(xw *xmlWriter) {
	if xw.buf.Cap() <= maxPooledBuffer {
		xw.buf.Reset()
		xmlWriterPool.Put(xw)
	}
}

// DecodeXMLRequest decodes an XML request body into a Req with
// encoding/xml. An empty body decodes to the zero Req. A body with a
// Content-Type other than application/xml, text/xml or a +xml type is
// answered 415; malformed XML, a value of the wrong type or data after the
// document 400 with a message that says what was wrong.
func DecodeXMLRequest[Req any](_ context.Context, r *http.Request) (Req, error) {
	return decodeBody(r, isXMLMediaType, XMLContentType, func(data []byte, req *Req) error { return unmarshalXML(data, req) })
}

// unmarshalXML decodes one XML document from data into v and rejects
// anything but comments, processing instructions and white space after it.
func unmarshalXML(data []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(v); err != nil {
		return xmlError(err)
	}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return xmlError(err)
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst, xml.Directive:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return kit.NewError(kit.InvalidArgument, "malformed XML: unexpected data after the root element")
			}
		default:
			return kit.NewError(kit.InvalidArgument, "malformed XML: unexpected data after the root element")
		}
	}
}

// xmlError turns an encoding/xml error into an InvalidArgument error. The
// error of a value's UnmarshalXML or UnmarshalText method that has a code
// of its own, such as a *kit.Error with violations, is returned as it is.
func xmlError(err error) error {
	var syn *xml.SyntaxError
	var num *strconv.NumError
	var ue xml.UnmarshalError
	switch {
	case hasCode(err):
		return err
	case errors.As(err, &syn):
		return kit.WrapError(kit.InvalidArgument, err, fmt.Sprintf("malformed XML on line %d: %s", syn.Line, syn.Msg))
	case errors.As(err, &num):
		return kit.WrapError(kit.InvalidArgument, err, "invalid XML value "+describeNumError(num))
	case errors.As(err, &ue):
		return kit.WrapError(kit.InvalidArgument, err, "invalid XML: "+string(ue))
	case errors.Is(err, io.EOF):
		return kit.WrapError(kit.InvalidArgument, err, "malformed XML: no root element")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return kit.WrapError(kit.InvalidArgument, err, "malformed XML: unexpected end of input")
	}
	return kit.WrapError(kit.InvalidArgument, err, "invalid XML: "+strings.TrimPrefix(err.Error(), "xml: "))
}

// describeNumError says which text failed to parse as what, in the words of
// the parameter parsers.
func describeNumError(e *strconv.NumError) string {
	value := e.Num
	if len(value) > 64 {
		value = value[:64] + "…"
	}
	if errors.Is(e.Err, strconv.ErrRange) {
		return strconv.Quote(value) + ": out of range"
	}
	want := "a number"
	switch e.Func {
	case "ParseBool":
		want = "a boolean"
	case "ParseInt":
		want = "an integer"
	case "ParseUint":
		want = "an unsigned integer"
	}
	return strconv.Quote(value) + ": not " + want
}

// isXMLMediaType reports whether ct names application/xml, text/xml or a
// +xml type, with any parameters.
func isXMLMediaType(ct string) bool {
	mt := mediaType(ct)
	if strings.EqualFold(mt, XMLContentType) || strings.EqualFold(mt, "text/xml") {
		return true
	}
	slash := strings.IndexByte(mt, '/')
	return slash > 0 && len(mt) > 4 && strings.EqualFold(mt[len(mt)-4:], "+xml")
}

// EncodeXMLResponse writes resp as XML with the Content-Type
// application/xml and the status 200. It writes no XML declaration. Resp
// should be a struct (or have an XMLName field) so that the body has one
// root element; a value encoding/xml cannot marshal, such as a map, is an
// Internal error.
func EncodeXMLResponse[Resp any](_ context.Context, w http.ResponseWriter, resp Resp) error {
	xw := xmlWriterPool.Get().(*xmlWriter)
	if err := xw.enc.Encode(resp); err != nil {
		// A failed encoder may hold half an element; it is not reused.
		return err
	}
	defer putXMLWriter(xw)
	w.Header()["Content-Type"] = xmlHeader
	_, err := w.Write(xw.buf.Bytes())
	return err
}

// EncodeXMLRequest writes req as the XML body of an outgoing request, with
// the Content-Type application/xml.
func EncodeXMLRequest[Req any](_ context.Context, r *http.Request, req Req) error {
	body, err := xml.Marshal(req)
	if err != nil {
		return err
	}
	r.Header["Content-Type"] = xmlHeader
	setBody(r, body)
	return nil
}

// DecodeXMLResponse decodes an XML response body into a Resp. An empty body
// decodes to the zero Resp.
func DecodeXMLResponse[Resp any](_ context.Context, r *http.Response) (Resp, error) {
	var resp Resp
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return resp, err
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return resp, nil
	}
	if err := xml.Unmarshal(buf.Bytes(), &resp); err != nil {
		return resp, err
	}
	return resp, nil
}
