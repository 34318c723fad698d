package genrt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// JSONMaxDepth is how deeply arrays and objects may nest in JSON that a
// JSONDecoder reads: encoding/json's limit.
const JSONMaxDepth = 10000

// A JSONDecoder reads one JSON value for the JSON decoders kitgen
// generates, in one pass that checks the syntax as it goes. It accepts
// exactly the input encoding/json accepts for the same Go type and fills
// the value as json.Unmarshal does: fields matched by name exactly, else
// without regard to case; the last of duplicate keys wins; unknown fields
// skipped; null leaves a value unchanged, except that it sets pointers,
// slices and maps to nil. The first error sticks: every read after it does
// nothing, so a generated decoder returns as soon as it checks Failed.
type JSONDecoder struct {
	data    []byte
	pos     int
	depth   int
	err     error
	key     []byte
	scratch []byte
	folded  []byte
}

// ResetJSON starts the decoder on data.
func (d *JSONDecoder) ResetJSON(data []byte) {
	*d = JSONDecoder{data: data, scratch: d.scratch[:0], folded: d.folded[:0]}
}

// Failed reports whether a read failed.
func (d *JSONDecoder) Failed() bool { return d.err != nil }

// Err returns the first error: a *json.SyntaxError or a
// *json.UnmarshalTypeError as encoding/json would return for the input,
// or the error of a value's own UnmarshalJSON.
func (d *JSONDecoder) Err() error { return d.err }

// End checks that nothing but whitespace follows the value.
func (d *JSONDecoder) End() {
	if d.err == nil && d.ws() {
		d.syntax()
	}
}

// ws skips whitespace and reports whether input is left.
func (d *JSONDecoder) ws() bool {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return true
		}
	}
	return false
}

// syntax records a syntax error: encoding/json's own, which it finds by
// checking the whole input as json.Unmarshal does before it decodes.
func (d *JSONDecoder) syntax() {
	if d.err != nil {
		return
	}
	var raw json.RawMessage
	if err := json.Unmarshal(d.data, &raw); err != nil {
		d.err = err
		return
	}
	d.err = &json.SyntaxError{Offset: int64(d.pos)}
}

// Fail records err, unless an error came first.
func (d *JSONDecoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// typeError records that the value at the reader cannot be read into t.
func (d *JSONDecoder) typeError(t reflect.Type) {
	if d.err != nil {
		return
	}
	start := d.pos
	what := "number" // the value of a number of the wrong kind is not named
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case '{':
			what = "object"
		case '[':
			what = "array"
		case '"':
			what = "string"
		case 't', 'f':
			what = "bool"
		case 'n':
			what = "null"
		}
	}
	// A syntax error later in the input is what encoding/json reports.
	var raw json.RawMessage
	if err := json.Unmarshal(d.data, &raw); err != nil {
		d.err = err
		return
	}
	d.err = &json.UnmarshalTypeError{Value: what, Type: t, Offset: int64(start)}
}

// InField adds a field's name to the path of a type error, as its struct's
// decoder returns.
func (d *JSONDecoder) InField(name string) {
	var te *json.UnmarshalTypeError
	if errors.As(d.err, &te) {
		if te.Field == "" {
			te.Field = name
		} else {
			te.Field = name + "." + te.Field
		}
	}
}

// Null reads a null and reports true, or reports false, reading nothing,
// when the value is not null.
func (d *JSONDecoder) Null() bool {
	if d.err != nil || !d.ws() {
		if d.err == nil {
			d.syntax()
		}
		return false
	}
	if d.data[d.pos] != 'n' {
		return false
	}
	d.literal("null")
	return d.err == nil
}

func (d *JSONDecoder) literal(lit string) {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		d.syntax()
		return
	}
	d.pos += len(lit)
}

// peek returns the first byte of the next value, 0 at the end or after an
// error.
func (d *JSONDecoder) peek() byte {
	if d.err != nil {
		return 0
	}
	if !d.ws() {
		d.syntax()
		return 0
	}
	return d.data[d.pos]
}

// IsArray reports an array next, for a []byte that reads an array of
// numbers as encoding/json does, or a base64 string.
func (d *JSONDecoder) IsArray() bool { return d.peek() == '[' }

// BeginObject starts reading an object into a value of type t: false at
// null (the value stays as it is) and, recording a type error, at a value
// that is not an object. Read its members with More and Key.
func (d *JSONDecoder) BeginObject(t func() reflect.Type) bool {
	switch d.peek() {
	case '{':
		d.pos++
		d.depth++
		if d.depth > JSONMaxDepth {
			d.syntax()
			return false
		}
		d.key = nil
		return true
	case 'n':
		d.literal("null")
		return false
	case 0:
		return false
	}
	d.typeError(t())
	return false
}

// BeginArray is BeginObject for arrays; read the elements with More.
func (d *JSONDecoder) BeginArray(t func() reflect.Type) bool {
	switch d.peek() {
	case '[':
		d.pos++
		d.depth++
		if d.depth > JSONMaxDepth {
			d.syntax()
			return false
		}
		d.key = nil
		return true
	case 'n':
		d.literal("null")
		return false
	case 0:
		return false
	}
	d.typeError(t())
	return false
}

// More reports whether another member or element follows in the object or
// array being read, reading the comma before it or the closing bracket.
// first is true before the first one.
func (d *JSONDecoder) More(first bool, closing byte) bool {
	c := d.peek()
	switch {
	case c == 0:
		return false
	case c == closing:
		d.pos++
		d.depth--
		return false
	case first:
		return true
	case c == ',':
		d.pos++
		return true
	}
	d.syntax()
	return false
}

// Key reads an object's key and the colon after it, and returns the key
// unescaped. It is valid until the next read.
func (d *JSONDecoder) Key() []byte {
	if d.peek() != '"' {
		d.syntax()
		return nil
	}
	k := d.str()
	if d.peek() != ':' {
		d.syntax()
		return nil
	}
	d.pos++
	d.key = k
	return k
}

// FoldedKey returns the key Key read folded as encoding/json folds the
// names of fields to match them without regard to case.
func (d *JSONDecoder) FoldedKey() []byte {
	d.folded = AppendFoldedName(d.folded[:0], d.key)
	return d.folded
}

// AppendFoldedName appends name folded as encoding/json folds field names:
// ASCII letters in upper case, other runes to the smallest of their
// simple fold set.
func AppendFoldedName(out, in []byte) []byte {
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return out
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// str reads a string at the reader, checking its syntax, and returns its
// bytes unescaped, with invalid UTF-8 replaced by U+FFFD.
func (d *JSONDecoder) str() []byte {
	d.pos++ // the quote
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			s := d.data[start:d.pos]
			d.pos++
			return s
		case c == '\\' || c < ' ':
			return d.strSlow(start)
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return d.strSlow(start)
			}
			d.pos += size
		default:
			d.pos++
		}
	}
	d.syntax()
	return nil
}

func (d *JSONDecoder) strSlow(start int) []byte {
	b := append(d.scratch[:0], d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.scratch = b
			return b
		case c < ' ':
			d.syntax()
			return nil
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				d.syntax()
				return nil
			}
			switch e := d.data[d.pos+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
				d.pos += 2
			case 'b':
				b = append(b, '\b')
				d.pos += 2
			case 'f':
				b = append(b, '\f')
				d.pos += 2
			case 'n':
				b = append(b, '\n')
				d.pos += 2
			case 'r':
				b = append(b, '\r')
				d.pos += 2
			case 't':
				b = append(b, '\t')
				d.pos += 2
			case 'u':
				r := getu4(d.data[d.pos:])
				if r < 0 {
					d.pos += 2
					for i := 0; i < 4 && d.pos < len(d.data) && isHex(d.data[d.pos]); i++ {
						d.pos++
					}
					d.syntax()
					return nil
				}
				d.pos += 6
				if utf16.IsSurrogate(r) {
					r1 := getu4(d.data[d.pos:])
					if dec := utf16.DecodeRune(r, r1); dec != unicode.ReplacementChar {
						d.pos += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
			default:
				d.pos++
				d.syntax()
				return nil
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			d.pos += size
			b = utf8.AppendRune(b, r)
		}
	}
	d.syntax()
	return nil
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// number reads a number at the reader, checking its syntax, and returns
// its text.
func (d *JSONDecoder) number() []byte {
	start := d.pos
	p := d.pos
	n := len(d.data)
	if p < n && d.data[p] == '-' {
		p++
	}
	switch {
	case p < n && d.data[p] == '0':
		p++
	case p < n && '1' <= d.data[p] && d.data[p] <= '9':
		for p < n && '0' <= d.data[p] && d.data[p] <= '9' {
			p++
		}
	default:
		d.pos = p
		d.syntax()
		return nil
	}
	if p < n && d.data[p] == '.' {
		p++
		if p >= n || d.data[p] < '0' || d.data[p] > '9' {
			d.pos = p
			d.syntax()
			return nil
		}
		for p < n && '0' <= d.data[p] && d.data[p] <= '9' {
			p++
		}
	}
	if p < n && (d.data[p] == 'e' || d.data[p] == 'E') {
		p++
		if p < n && (d.data[p] == '+' || d.data[p] == '-') {
			p++
		}
		if p >= n || d.data[p] < '0' || d.data[p] > '9' {
			d.pos = p
			d.syntax()
			return nil
		}
		for p < n && '0' <= d.data[p] && d.data[p] <= '9' {
			p++
		}
	}
	d.pos = p
	return d.data[start:p]
}

// Skip reads a value of any kind and drops it.
func (d *JSONDecoder) Skip() { d.skip() }

func (d *JSONDecoder) skip() {
	switch c := d.peek(); c {
	case 0:
	case '{':
		d.pos++
		d.depth++
		if d.depth > JSONMaxDepth {
			d.syntax()
			return
		}
		for first := true; d.More(first, '}'); first = false {
			d.Key()
			d.skip()
		}
	case '[':
		d.pos++
		d.depth++
		if d.depth > JSONMaxDepth {
			d.syntax()
			return
		}
		for first := true; d.More(first, ']'); first = false {
			d.skip()
		}
	case '"':
		d.str()
	case 't':
		d.literal("true")
	case 'f':
		d.literal("false")
	case 'n':
		d.literal("null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			d.number()
			return
		}
		d.syntax()
	}
}

// RawValue reads a value of any kind and returns its JSON text.
func (d *JSONDecoder) RawValue() []byte {
	if d.peek() == 0 {
		return nil
	}
	start := d.pos
	d.skip()
	if d.err != nil {
		return nil
	}
	return d.data[start:d.pos]
}

// TypeOf returns the reflect.Type of T, for the errors of a decoder.
func TypeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// JSONValue reads a value into v with encoding/json: the decoders kitgen
// generates hand it the values of types they do not decode themselves.
func JSONValue(d *JSONDecoder, v any) {
	raw := d.RawValue()
	if d.err != nil {
		return
	}
	if err := json.Unmarshal(raw, v); err != nil {
		d.err = err
	}
}

// JSONBool reads a bool into v.
func JSONBool[T ~bool](d *JSONDecoder, v *T) {
	switch d.peek() {
	case 't':
		d.literal("true")
		if d.err == nil {
			*v = true
		}
	case 'f':
		d.literal("false")
		if d.err == nil {
			*v = false
		}
	case 'n':
		d.literal("null")
	case 0:
	default:
		d.typeError(reflect.TypeFor[T]())
	}
}

// JSONString reads a string into v.
func JSONString[T ~string](d *JSONDecoder, v *T) {
	switch d.peek() {
	case '"':
		s := d.str()
		if d.err == nil {
			*v = T(s)
		}
	case 'n':
		d.literal("null")
	case 0:
	default:
		d.typeError(reflect.TypeFor[T]())
	}
}

// numberFor reads a number for a value of type T: nil at null and after
// an error, which it records for a value of another kind.
func numberFor[T any](d *JSONDecoder) []byte {
	c := d.peek()
	switch {
	case c == 'n':
		d.literal("null")
		return nil
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c != 0:
		d.typeError(reflect.TypeFor[T]())
	}
	return nil
}

// JSONInt reads a signed integer into v; fractions, exponents and values
// out of T's range are type errors, as in encoding/json.
func JSONInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](d *JSONDecoder, v *T) {
	start := d.pos
	if num := numberFor[T](d); num != nil {
		setInt(d, v, num, start)
	}
}

func setInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](d *JSONDecoder, v *T, num []byte, start int) bool {
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || int64(T(n)) != n {
		d.numberError(reflect.TypeFor[T](), num, start)
		return false
	}
	*v = T(n)
	return true
}

// JSONUint reads an unsigned integer into v.
func JSONUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](d *JSONDecoder, v *T) {
	start := d.pos
	if num := numberFor[T](d); num != nil {
		setUint(d, v, num, start)
	}
}

func setUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](d *JSONDecoder, v *T, num []byte, start int) bool {
	n, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil || uint64(T(n)) != n {
		d.numberError(reflect.TypeFor[T](), num, start)
		return false
	}
	*v = T(n)
	return true
}

// JSONFloat reads a floating-point number into v.
func JSONFloat[T ~float32 | ~float64](d *JSONDecoder, v *T) {
	start := d.pos
	if num := numberFor[T](d); num != nil {
		setFloat(d, v, num, start)
	}
}

func setFloat[T ~float32 | ~float64](d *JSONDecoder, v *T, num []byte, start int) bool {
	bits := 64
	if reflect.TypeFor[T]().Kind() == reflect.Float32 {
		bits = 32
	}
	n, err := strconv.ParseFloat(string(num), bits)
	if err != nil || bits == 32 && overflowFloat32(n) {
		d.numberError(reflect.TypeFor[T](), num, start)
		return false
	}
	*v = T(n)
	return true
}

func overflowFloat32(x float64) bool {
	if x < 0 {
		x = -x
	}
	return math.MaxFloat32 < x && x <= math.MaxFloat64
}

func (d *JSONDecoder) numberError(t reflect.Type, num []byte, start int) {
	if d.err != nil {
		return
	}
	var raw json.RawMessage
	if err := json.Unmarshal(d.data, &raw); err != nil {
		d.err = err
		return
	}
	d.err = &json.UnmarshalTypeError{Value: "number " + string(num), Type: t, Offset: int64(start)}
}

// JSONBytes reads a base64 string into v, as encoding/json reads a
// []byte; see IsArray for an array of numbers.
func JSONBytes[T ~[]byte](d *JSONDecoder, v *T) {
	switch d.peek() {
	case '"':
		s := d.str()
		if d.err != nil {
			return
		}
		b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
		n, err := base64.StdEncoding.Decode(b, s)
		if err != nil {
			d.Fail(err)
			return
		}
		*v = T(b[:n])
	case 'n':
		d.literal("null")
		*v = nil
	case 0:
	default:
		d.typeError(reflect.TypeFor[T]())
	}
}

// JSONTime reads a time.Time with its UnmarshalJSON method, as
// encoding/json does.
func JSONTime(d *JSONDecoder, v *time.Time) {
	raw := d.RawValue()
	if d.err != nil {
		return
	}
	if err := v.UnmarshalJSON(raw); err != nil {
		d.err = err
	}
}

// JSONRawMessage reads a json.RawMessage: the value's JSON text, null
// included.
func JSONRawMessage(d *JSONDecoder, v *json.RawMessage) {
	raw := d.RawValue()
	if d.err != nil {
		return
	}
	*v = append((*v)[:0], raw...)
}

// Quoted reads the string of a field with the ",string" option and
// returns what it holds: ok with its text s (which begins at start in the
// input), or null for a null or the string "null" (which set a pointer to
// nil and leave other values as they are), or neither after an error.
// Read the value from s with the Quoted functions.
func (d *JSONDecoder) Quoted(t func() reflect.Type) (s []byte, start int, null, ok bool) {
	switch d.peek() {
	case '"':
		start = d.pos
		s = d.str()
		if d.err != nil {
			return nil, 0, false, false
		}
		if len(s) == 0 {
			d.quotedError(s, t())
			return nil, 0, false, false
		}
		if s[0] == 'n' {
			if string(s) != "null" {
				d.quotedError(s, t())
				return nil, 0, false, false
			}
			return nil, 0, true, false
		}
		return s, start, false, true
	case 'n':
		d.literal("null")
		return nil, 0, d.err == nil, false
	case 0:
		return nil, 0, false, false
	}
	d.skip()
	if d.err == nil {
		d.err = errors.New("json: invalid use of ,string struct tag, trying to unmarshal unquoted value into " + t().String())
	}
	return nil, 0, false, false
}

func (d *JSONDecoder) quotedError(s []byte, t reflect.Type) {
	if d.err == nil {
		d.err = errors.New("json: invalid use of ,string struct tag, trying to unmarshal " + strconv.Quote(string(s)) + " into " + t.String())
	}
}

func isNumberStart(c byte) bool { return c == '-' || '0' <= c && c <= '9' }

// QuotedBool sets v from the text of a ",string" bool field.
func QuotedBool[T ~bool](d *JSONDecoder, v *T, s []byte) {
	switch string(s) {
	case "true":
		*v = true
	case "false":
		*v = false
	default:
		d.quotedError(s, reflect.TypeFor[T]())
	}
}

// QuotedString sets v from the text of a ",string" string field: a JSON
// string itself.
func QuotedString[T ~string](d *JSONDecoder, v *T, s []byte) {
	if s[0] != '"' {
		d.quotedError(s, reflect.TypeFor[T]())
		return
	}
	u, ok := unquoteBytes(s)
	if !ok {
		d.quotedError(s, reflect.TypeFor[T]())
		return
	}
	*v = T(u)
}

// QuotedInt sets v from the text of a ",string" integer field.
func QuotedInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](d *JSONDecoder, v *T, s []byte, start int) {
	if !isNumberStart(s[0]) {
		d.quotedError(s, reflect.TypeFor[T]())
		return
	}
	setInt(d, v, s, start)
}

// QuotedUint sets v from the text of a ",string" unsigned integer field.
func QuotedUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](d *JSONDecoder, v *T, s []byte, start int) {
	if !isNumberStart(s[0]) {
		d.quotedError(s, reflect.TypeFor[T]())
		return
	}
	setUint(d, v, s, start)
}

// QuotedFloat sets v from the text of a ",string" float field.
func QuotedFloat[T ~float32 | ~float64](d *JSONDecoder, v *T, s []byte, start int) {
	if !isNumberStart(s[0]) {
		d.quotedError(s, reflect.TypeFor[T]())
		return
	}
	setFloat(d, v, s, start)
}

// unquoteBytes is encoding/json's unquote of a string that a ",string"
// field holds, which is not checked by its scanner.
func unquoteBytes(s []byte) ([]byte, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return nil, false
	}
	s = s[1 : len(s)-1]
	b := make([]byte, 0, len(s))
	for r := 0; r < len(s); {
		switch c := s[r]; {
		case c == '\\':
			r++
			if r >= len(s) {
				return nil, false
			}
			switch s[r] {
			default:
				return nil, false
			case '"', '\\', '/', '\'':
				b = append(b, s[r])
				r++
			case 'b':
				b = append(b, '\b')
				r++
			case 'f':
				b = append(b, '\f')
				r++
			case 'n':
				b = append(b, '\n')
				r++
			case 'r':
				b = append(b, '\r')
				r++
			case 't':
				b = append(b, '\t')
				r++
			case 'u':
				r--
				rr := getu4(s[r:])
				if rr < 0 {
					return nil, false
				}
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := getu4(s[r:])
					if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
			}
		case c == '"', c < ' ':
			return nil, false
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return b, true
}

// JSONIntKey sets the signed integer key k of a map from the text of an
// object's key, which encoding/json parses after it reads the value.
func JSONIntKey[K ~int | ~int8 | ~int16 | ~int32 | ~int64](d *JSONDecoder, k *K, key string) {
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil || int64(K(n)) != n {
		d.numberError(reflect.TypeFor[K](), []byte(key), d.pos)
		return
	}
	*k = K(n)
}

// JSONUintKey is JSONIntKey for unsigned integer keys.
func JSONUintKey[K ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](d *JSONDecoder, k *K, key string) {
	n, err := strconv.ParseUint(key, 10, 64)
	if err != nil || uint64(K(n)) != n {
		d.numberError(reflect.TypeFor[K](), []byte(key), d.pos)
		return
	}
	*k = K(n)
}
