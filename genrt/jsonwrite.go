package genrt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A JSONWriter appends JSON to a buffer for the JSON encoders kitgen
// generates. Its output is byte for byte what encoding/json writes for the
// same value with HTML escaping on (json.Marshal, and json.Encoder by
// default): the same escapes, invalid UTF-8 replaced with U+FFFD, the same
// spelling of numbers. The first error (a NaN or an infinity, a time out
// of RFC 3339's range, an error of a value's own MarshalJSON) sticks: the
// encoders go on, and the caller reads it with Err.
type JSONWriter struct {
	// B is the JSON written so far.
	B   []byte
	err error
}

// Err returns the first error of the writes.
func (w *JSONWriter) Err() error { return w.err }

// Reset empties the writer for another value, keeping its buffer.
func (w *JSONWriter) Reset() { w.B, w.err = w.B[:0], nil }

func (w *JSONWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// Raw appends s as it is: punctuation, literals and the names of fields,
// which kitgen escapes when it generates them.
func (w *JSONWriter) Raw(s string) { w.B = append(w.B, s...) }

// Byte appends one byte of punctuation.
func (w *JSONWriter) Byte(c byte) { w.B = append(w.B, c) }

// Bool appends true or false.
func (w *JSONWriter) Bool(v bool) {
	if v {
		w.B = append(w.B, "true"...)
	} else {
		w.B = append(w.B, "false"...)
	}
}

// Int appends a signed integer.
func (w *JSONWriter) Int(v int64) { w.B = strconv.AppendInt(w.B, v, 10) }

// Uint appends an unsigned integer.
func (w *JSONWriter) Uint(v uint64) { w.B = strconv.AppendUint(w.B, v, 10) }

// Float appends a float of the bit size bits (32 or 64) as encoding/json
// spells it; NaN and the infinities are an error, as there.
func (w *JSONWriter) Float(f float64, bits int) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		w.fail(&json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, bits)})
		w.B = append(w.B, '0')
		return
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b := strconv.AppendFloat(w.B, f, format, -1, bits)
	if format == 'e' {
		// e-09 becomes e-9.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	w.B = b
}

// String appends s as a JSON string, escaped as encoding/json escapes
// with HTML escaping on.
func (w *JSONWriter) String(s string) { w.B = appendJSONString(w.B, s) }

// QuotedString appends s as the ",string" option writes a string field:
// a JSON string of its JSON string.
func (w *JSONWriter) QuotedString(s string) {
	inner := appendJSONString(nil, s)
	w.B = append(w.B, '"')
	w.B = appendEscapedNoHTML(w.B, inner)
	w.B = append(w.B, '"')
}

// Bytes appends a []byte as encoding/json does: base64 (standard, padded)
// in a string, null for nil.
func (w *JSONWriter) Bytes(b []byte) {
	if b == nil {
		w.B = append(w.B, "null"...)
		return
	}
	w.B = append(w.B, '"')
	w.B = base64.StdEncoding.AppendEncode(w.B, b)
	w.B = append(w.B, '"')
}

// Time appends a time.Time as its MarshalJSON method writes it.
func (w *JSONWriter) Time(t time.Time) {
	n := len(w.B)
	w.B = append(w.B, '"')
	b, err := t.AppendText(w.B)
	if err != nil {
		w.fail(errors.New("json: error calling MarshalJSON for type time.Time: Time.MarshalJSON: " + strings.TrimPrefix(err.Error(), "Time.AppendText: ")))
		w.B = append(w.B[:n], "null"...)
		return
	}
	w.B = append(b, '"')
}

// RawMessage appends a json.RawMessage as encoding/json does: null for
// nil, otherwise the JSON compacted with HTML escaping; malformed JSON is
// an error.
func (w *JSONWriter) RawMessage(m []byte) {
	if m == nil {
		w.B = append(w.B, "null"...)
		return
	}
	if !json.Valid(m) {
		w.fail(errors.New("json: error calling MarshalJSON for type json.RawMessage: invalid JSON"))
		w.B = append(w.B, "null"...)
		return
	}
	w.B = appendCompact(w.B, m)
}

// Value appends v with encoding/json: the encoders kitgen generates hand it
// the values of types they do not encode themselves (interfaces, types
// with their own MarshalJSON or MarshalText, maps with keys of such types).
func (w *JSONWriter) Value(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.fail(err)
		w.B = append(w.B, "null"...)
		return
	}
	w.B = append(w.B, b...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's appendString with HTML escaping.
func appendJSONString(dst []byte, src string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if b := src[i]; b < utf8.RuneSelf {
			if htmlSafe[b] {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(src[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

// appendEscapedNoHTML appends the inside of a JSON string of src, which is
// valid UTF-8 escaped JSON already: only backslashes and quotes need
// escaping again.
func appendEscapedNoHTML(dst, src []byte) []byte {
	for _, c := range src {
		if c == '\\' || c == '"' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

// appendCompact appends valid JSON src without its insignificant
// whitespace, escaping <, >, & and U+2028 and U+2029 in strings, as
// encoding/json compacts the output of a MarshalJSON method.
func appendCompact(dst, src []byte) []byte {
	inString, escaped := false, false
	start := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '<' || c == '>' || c == '&' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			start = i + 1
			escaped = false
			continue
		}
		if c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[src[i+2]&0xF])
			start = i + 3
			i += 2
			escaped = false
			continue
		}
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

// htmlSafe reports the ASCII bytes a JSON string holds as they are with
// HTML escaping on.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// SortedKeys returns the keys of a map with string keys in the order
// encoding/json writes them.
func SortedKeys[M ~map[K]V, K ~string, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// IntKey is a map key written as its decimal text.
type IntKey[K any] struct {
	Key  K
	Text string
}

// SortedIntKeys returns the keys of a map with signed integer keys with
// their texts, in the order encoding/json writes them (by the text).
func SortedIntKeys[M ~map[K]V, K ~int | ~int8 | ~int16 | ~int32 | ~int64, V any](m M) []IntKey[K] {
	keys := make([]IntKey[K], 0, len(m))
	for k := range m {
		keys = append(keys, IntKey[K]{k, strconv.FormatInt(int64(k), 10)})
	}
	slices.SortFunc(keys, func(a, b IntKey[K]) int { return compareStrings(a.Text, b.Text) })
	return keys
}

// SortedUintKeys is SortedIntKeys for unsigned integer keys.
func SortedUintKeys[M ~map[K]V, K ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr, V any](m M) []IntKey[K] {
	keys := make([]IntKey[K], 0, len(m))
	for k := range m {
		keys = append(keys, IntKey[K]{k, strconv.FormatUint(uint64(k), 10)})
	}
	slices.SortFunc(keys, func(a, b IntKey[K]) int { return compareStrings(a.Text, b.Text) })
	return keys
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
