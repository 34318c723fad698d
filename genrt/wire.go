// Package genrt is the runtime of the code kitgen generates, and only
// generated code imports it: its names change with kitgen's and are not
// part of typedkit's API for users. [SupportPackageIsVersion1] is the
// compile-time check that generated code was built for this runtime.
//
// It holds the helpers of the generated protobuf codecs — reading values
// with errors in place of negative lengths, skipping unknown fields, the
// limit on nesting, writing values back to front into a buffer sized
// beforehand, the texts of fields that travel as MarshalText's output, and
// the well-known Timestamp and Duration messages —, the gRPC codec they
// plug into, and the parsers of path and query parameters of the
// generated HTTP decoders.
//
// A generated message is written in two passes, each linear in the size
// of the message: its size, then its bytes from the last to the first, so
// that a nested message is written before its length, which is then known
// (the scheme of vtprotobuf's MarshalToSizedBuffer). The bytes are those
// of protobuf-go's deterministic mode. A large message is written into a
// buffer of grpc-go's pool ([Buffer]), which the transport frees once it
// is sent.
//
// A generated message is read in one pass. Nothing read aliases the input,
// which the transport reuses once the codec returns: strings are
// substrings of copies shared by the fields of a message ([Strings] states
// the rule), bytes fields are copied each (an UnmarshalText method is given
// the field's bytes themselves and copies what it keeps, as
// encoding.TextUnmarshaler requires), and a repeated field's slice is
// sized from its first element ([MakeSlice]) rather than by a walk of the
// rest of the message.
package genrt

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/typedkit/kit"
)

// Error returns the InvalidArgument error for a protowire parse failure (a
// negative length from a protowire Consume function).
func Error(n int) error {
	return kit.WrapError(kit.InvalidArgument, protowire.ParseError(n), "malformed protobuf message: "+protowire.ParseError(n).Error())
}

// Errorf returns an InvalidArgument error about a malformed message.
func Errorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return kit.NewError(kit.InvalidArgument, "malformed protobuf message: "+msg)
}

// RecursionLimit is how deeply messages may nest in a message that
// generated code reads: protobuf-go's limit, so that what one accepts the
// other accepts. A message at the top counts as one level, and so does
// each message (a Timestamp or Duration too) below it.
const RecursionLimit = protowire.DefaultRecursionLimit

// ErrDepth is the InvalidArgument error of a message nested deeper than
// [RecursionLimit].
var ErrDepth = kit.NewError(kit.InvalidArgument, fmt.Sprintf("malformed protobuf message: messages nested more than %d deep", RecursionLimit))

// ErrChanged is the error of a message whose size changed between the
// two passes that write it: a value modified while it is sent.
var ErrChanged = kit.NewError(kit.Internal, "protobuf message changed while it was written")

// Grow returns b grown by n bytes, and those n bytes.
func Grow(b []byte, n int) ([]byte, []byte) {
	l := len(b)
	b = slices.Grow(b, n)[:l+n]
	return b, b[l:]
}

// PutVarint writes v as a varint that ends at b[i-1] and returns where it
// begins.
func PutVarint(b []byte, i int, v uint64) int {
	if v < 0x80 {
		i--
		b[i] = byte(v)
		return i
	}
	return putVarint(b, i, v)
}

func putVarint(b []byte, i int, v uint64) int {
	i -= protowire.SizeVarint(v)
	j := i
	for v >= 0x80 {
		b[j] = byte(v) | 0x80
		v >>= 7
		j++
	}
	b[j] = byte(v)
	return i
}

// PutFixed32 writes v in 4 bytes that end at b[i-1].
func PutFixed32(b []byte, i int, v uint32) int {
	i -= 4
	binary.LittleEndian.PutUint32(b[i:], v)
	return i
}

// PutFixed64 writes v in 8 bytes that end at b[i-1].
func PutFixed64(b []byte, i int, v uint64) int {
	i -= 8
	binary.LittleEndian.PutUint64(b[i:], v)
	return i
}

// PutString writes s with its length in front, ending at b[i-1].
func PutString(b []byte, i int, s string) int {
	i -= len(s)
	copy(b[i:], s)
	return PutVarint(b, i, uint64(len(s)))
}

// PutBytes writes v with its length in front, ending at b[i-1].
func PutBytes(b []byte, i int, v []byte) int {
	i -= len(v)
	copy(b[i:], v)
	return PutVarint(b, i, uint64(len(v)))
}

// Texts holds the texts that MarshalText returned for the fields of a
// message that travel as text: the size pass adds them in the order of
// the fields, the write pass, going back to front, takes them from the
// end. So MarshalText is called once a value, and the size and the bytes
// agree.
type Texts struct {
	texts [][]byte
	err   error
}

// Add keeps the text of a field and returns its length. The first error,
// or a text that is not UTF-8 (a protobuf string must be), is kept for
// [Texts.Err].
func (t *Texts) Add(text []byte, err error, field string) int {
	if err == nil && !utf8.Valid(text) {
		err = fmt.Errorf("the text is not valid UTF-8")
	}
	if err != nil && t.err == nil {
		t.err = kit.WrapError(kit.Internal, err, "cannot marshal field "+field+": "+err.Error())
	}
	t.texts = append(t.texts, text)
	return len(text)
}

// Pop takes the last text added.
func (t *Texts) Pop() []byte {
	last := t.texts[len(t.texts)-1]
	t.texts = t.texts[:len(t.texts)-1]
	return last
}

// Err returns the first MarshalText failure.
func (t *Texts) Err() error { return t.err }

// TextError returns the InvalidArgument error of a text that a field's
// UnmarshalText refuses.
func TextError(field string, err error) error {
	return kit.WrapError(kit.InvalidArgument, err, "malformed protobuf message: field "+field+": "+err.Error())
}

// ConsumeText reads a string field as bytes, checking that it is valid
// UTF-8 (as proto3 requires), for an UnmarshalText method or for
// [Strings.String]. The slice aliases b.
func ConsumeText(b []byte, field string) ([]byte, int, error) {
	v, n, err := ConsumeBytes(b)
	if err != nil {
		return nil, 0, err
	}
	if !utf8.Valid(v) {
		return nil, 0, Errorf("field %s is not valid UTF-8", field)
	}
	return v, n, nil
}

// AppendVarint appends v as a varint, with the common one-byte case
// inlined at the call site.
func AppendVarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return protowire.AppendVarint(b, v)
}

// ConsumeTag reads a field's tag. A one-byte tag, the common case, is read
// without a call.
func ConsumeTag(b []byte) (protowire.Number, protowire.Type, int, error) {
	if len(b) > 0 && b[0] < 0x80 && b[0]>>3 != 0 {
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), 1, nil
	}
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return 0, 0, 0, Error(n)
	}
	return num, typ, n, nil
}

// Skip returns the length of the value of an unknown field.
func Skip(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
	n := protowire.ConsumeFieldValue(num, typ, b)
	if n < 0 {
		return 0, Error(n)
	}
	return n, nil
}

// ConsumeVarint reads a varint.
func ConsumeVarint(b []byte) (uint64, int, error) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1, nil
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, Error(n)
	}
	return v, n, nil
}

// ConsumeFixed32 reads a fixed 32-bit value.
func ConsumeFixed32(b []byte) (uint32, int, error) {
	v, n := protowire.ConsumeFixed32(b)
	if n < 0 {
		return 0, 0, Error(n)
	}
	return v, n, nil
}

// ConsumeFixed64 reads a fixed 64-bit value.
func ConsumeFixed64(b []byte) (uint64, int, error) {
	v, n := protowire.ConsumeFixed64(b)
	if n < 0 {
		return 0, 0, Error(n)
	}
	return v, n, nil
}

// ConsumeBytes reads a length-delimited value. The slice aliases b.
func ConsumeBytes(b []byte) ([]byte, int, error) {
	if len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
		n := int(b[0])
		return b[1 : 1+n : 1+n], 1 + n, nil
	}
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return nil, 0, Error(n)
	}
	return v, n, nil
}

// ConsumeString reads a string and checks that it is valid UTF-8, as proto3
// requires. It copies each string on its own: code generated now reads
// strings with [ConsumeText] and [Strings.String] instead, and this stays
// for code generated before.
func ConsumeString(b []byte, field string) (string, int, error) {
	v, n, err := ConsumeBytes(b)
	if err != nil {
		return "", 0, err
	}
	if !utf8.Valid(v) {
		return "", 0, Errorf("field %s is not valid UTF-8", field)
	}
	return string(v), n, nil
}

// CopyBytes copies a bytes field out of the input buffer, which the
// transport may reuse.
func CopyBytes(v []byte) []byte { return append([]byte{}, v...) }

// Well-known type bounds, as google.protobuf.Timestamp documents them.
const (
	minTimestampSeconds = -62135596800 // 0001-01-01T00:00:00Z
	maxTimestampSeconds = 253402300799 // 9999-12-31T23:59:59Z
)

// SizeTimestamp returns the size of t as a google.protobuf.Timestamp
// message body.
func SizeTimestamp(t time.Time) int {
	s, ns := t.Unix(), t.Nanosecond()
	n := 0
	if s != 0 {
		n += 1 + protowire.SizeVarint(uint64(s))
	}
	if ns != 0 {
		n += 1 + protowire.SizeVarint(uint64(int64(ns)))
	}
	return n
}

// AppendTimestamp appends t as a google.protobuf.Timestamp message body.
func AppendTimestamp(b []byte, t time.Time) []byte {
	s, ns := t.Unix(), t.Nanosecond()
	if s != 0 {
		b = append(b, 1<<3|byte(protowire.VarintType))
		b = AppendVarint(b, uint64(s))
	}
	if ns != 0 {
		b = append(b, 2<<3|byte(protowire.VarintType))
		b = AppendVarint(b, uint64(int64(ns)))
	}
	return b
}

// ConsumeTimestamp reads a google.protobuf.Timestamp message body as a UTC
// time.
func ConsumeTimestamp(b []byte) (time.Time, error) {
	s, ns, err := consumeSecondsNanos(b)
	if err != nil {
		return time.Time{}, err
	}
	if s < minTimestampSeconds || s > maxTimestampSeconds || ns < 0 || ns >= 1e9 {
		return time.Time{}, Errorf("timestamp %d.%09d is out of range", s, ns)
	}
	return time.Unix(s, ns).UTC(), nil
}

// consumeSecondsNanos reads the seconds (field 1) and nanos (field 2) of a
// Timestamp or Duration body, skipping other fields.
func consumeSecondsNanos(b []byte) (s, ns int64, err error) {
	for len(b) > 0 {
		num, typ, n, err := ConsumeTag(b)
		if err != nil {
			return 0, 0, err
		}
		b = b[n:]
		if (num == 1 || num == 2) && typ == protowire.VarintType {
			v, n, err := ConsumeVarint(b)
			if err != nil {
				return 0, 0, err
			}
			b = b[n:]
			if num == 1 {
				s = int64(v)
			} else {
				ns = int64(int32(v))
			}
			continue
		}
		n, err = Skip(num, typ, b)
		if err != nil {
			return 0, 0, err
		}
		b = b[n:]
	}
	return s, ns, nil
}

// PutTimestamp writes t as a google.protobuf.Timestamp message body that
// ends at b[i-1], and returns where it begins.
func PutTimestamp(b []byte, i int, t time.Time) int {
	return putSecondsNanos(b, i, t.Unix(), int64(t.Nanosecond()))
}

// PutDuration writes d as a google.protobuf.Duration message body that
// ends at b[i-1], and returns where it begins.
func PutDuration(b []byte, i int, d time.Duration) int {
	return putSecondsNanos(b, i, int64(d/time.Second), int64(d%time.Second))
}

// putSecondsNanos writes the fields seconds (1) and nanos (2) that
// Timestamp and Duration share, back to front, each only when it is not
// zero, and returns where they begin.
func putSecondsNanos(b []byte, i int, s, ns int64) int {
	if ns != 0 {
		i = PutVarint(b, i, uint64(ns))
		i--
		b[i] = 2<<3 | byte(protowire.VarintType)
	}
	if s != 0 {
		i = PutVarint(b, i, uint64(s))
		i--
		b[i] = 1<<3 | byte(protowire.VarintType)
	}
	return i
}

// SizeDuration returns the size of d as a google.protobuf.Duration message
// body.
func SizeDuration(d time.Duration) int {
	s, ns := int64(d/time.Second), int64(d%time.Second)
	n := 0
	if s != 0 {
		n += 1 + protowire.SizeVarint(uint64(s))
	}
	if ns != 0 {
		n += 1 + protowire.SizeVarint(uint64(ns))
	}
	return n
}

// AppendDuration appends d as a google.protobuf.Duration message body.
func AppendDuration(b []byte, d time.Duration) []byte {
	s, ns := int64(d/time.Second), int64(d%time.Second)
	if s != 0 {
		b = append(b, 1<<3|byte(protowire.VarintType))
		b = AppendVarint(b, uint64(s))
	}
	if ns != 0 {
		b = append(b, 2<<3|byte(protowire.VarintType))
		b = AppendVarint(b, uint64(ns))
	}
	return b
}

// ConsumeDuration reads a google.protobuf.Duration message body. A
// duration beyond time.Duration's range is an error.
func ConsumeDuration(b []byte) (time.Duration, error) {
	s, ns, err := consumeSecondsNanos(b)
	if err != nil {
		return 0, err
	}
	if ns <= -1e9 || ns >= 1e9 || (s > 0 && ns < 0) || (s < 0 && ns > 0) {
		return 0, Errorf("duration %ds %dns is malformed", s, ns)
	}
	if s > math.MaxInt64/int64(time.Second) || s < math.MinInt64/int64(time.Second) {
		return 0, Errorf("duration %ds is out of range", s)
	}
	return time.Duration(s)*time.Second + time.Duration(ns), nil
}

// Count returns how many fields numbered num b holds, b starting at a tag.
// It stops at the first malformed field. Code generated before
// [MakeSlice] sized repeated fields with it, walking the rest of the
// message once per field; it stays for that code.
func Count(b []byte, num protowire.Number) int {
	count := 0
	for len(b) > 0 {
		n2, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return count
		}
		b = b[n:]
		if n2 == num {
			count++
		}
		n = protowire.ConsumeFieldValue(n2, typ, b)
		if n < 0 {
			return count
		}
		b = b[n:]
	}
	return count
}

// CountVarints returns how many varints a packed field's bytes hold.
func CountVarints(b []byte) int {
	count := 0
	for _, c := range b {
		if c < 0x80 {
			count++
		}
	}
	return count
}
