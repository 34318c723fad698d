package genrt

import "unsafe"

// StringChunk is the most bytes of a message that one copy made by
// [Strings] holds beyond the string that asked for it: the strings of a
// message share copies of at most this size (a longer string has a copy of
// its own), so a string kept after the message is dropped keeps at most
// this much of the message alive besides itself.
const StringChunk = 16 << 10

// Strings makes the string fields of a message that generated code reads,
// with one allocation for many strings rather than one for each.
//
// The aliasing rule: no value that generated code reads may alias the
// input buffer. A transport may reuse that buffer as soon as
// UnmarshalProtoWire returns — grpc-go's codec v2 hands the codec a
// mem.BufferSlice and returns its buffers to a pool when Unmarshal
// returns — so a string that pointed into it would change under its
// holder. Strings therefore copies: at the first string field it copies the
// bytes of the message from that field on (at most [StringChunk] of them,
// or the whole string when it is longer) into one new string, and every
// later string field that lies inside that copy is a substring of it,
// without a copy of its own; a field beyond it starts the next copy. Bytes
// fields are copied each on their own ([CopyBytes]), since a []byte that
// shared a string's memory could be written through.
//
// A field's place is known by offsets, not pointers: the reader of each
// message is given end, the offset in the top message's bytes at which
// the message's bytes end, and since it consumes its bytes from the front,
// the offset of what is left of them, b, is end-len(b).
type Strings struct {
	msg []byte // the top message's bytes, as the transport gave them
	s   string // a copy of msg[at : at+len(s)]
	at  int
	// slab is room for the slices of repeated string fields ([Strings.Slice]).
	slab []string
}

// stringSlab is how many strings the room for the slices of repeated string
// fields is made for at once: a slice kept after its message keeps at most
// this many strings' room of others alive.
const stringSlab = 64

// NewStrings returns the Strings of the message whose bytes are msg.
func NewStrings(msg []byte) Strings { return Strings{msg: msg} }

// String returns x, a value that ends at the offset end of the message's
// bytes, as a string that does not alias them.
func (s *Strings) String(end int, x []byte) string {
	if len(x) == 0 {
		return ""
	}
	start := end - len(x)
	if start < 0 || end > len(s.msg) || &s.msg[start] != &x[0] {
		// Not where the message's bytes say: read by code that did not
		// track the offsets. A copy of its own is always right.
		return string(x)
	}
	if off := start - s.at; off >= 0 && end-s.at <= len(s.s) && s.s != "" {
		return s.s[off : off+len(x)]
	}
	n := min(max(len(x), StringChunk), len(s.msg)-start)
	s.s, s.at = string(s.msg[start:start+n]), start
	return s.s[:len(x)]
}

// Slice returns the empty slice to which a repeated string field's elements
// are appended, with the capacity [MakeSlice] gives it, taken from room
// shared by the string slices of the message (made for [stringSlab] strings
// at a time) rather than allocated on its own. Its capacity ends where the
// next slice's room begins, so an append past it allocates instead of
// writing into another field.
func (s *Strings) Slice(rest, n int) []string {
	c := capacity(rest, n, unsafe.Sizeof(""))
	if c > len(s.slab) {
		if c > stringSlab/2 {
			return make([]string, 0, c)
		}
		s.slab = make([]string, stringSlab)
	}
	out := s.slab[:0:c]
	s.slab = s.slab[c:]
	return out
}

// MakeSlice returns the empty slice to which a repeated field's elements
// are appended, made when its first element has been read: the element's record took n bytes and rest bytes of the message
// follow it. It guesses that the records that follow are as long as the
// first — exact for a list of like elements — rather than walking the rest
// of the message to count them; a guess that is short is made up by
// append. A guess that is long costs at most twice the message's
// remaining bytes (or 64 KiB, for a small message) of memory, since the
// estimate is held to that; it cannot be more than the number of records
// that the rest of the message could hold.
func MakeSlice[T any](rest, n int) []T {
	var zero T
	return make([]T, 0, capacity(rest, n, unsafe.Sizeof(zero)))
}

// capacity is MakeSlice's capacity for elements of elemSize bytes.
func capacity(rest, n int, elemSize uintptr) int {
	est := 1 + rest/(n+1)
	if elemSize == 0 {
		return est
	}
	limit := max(2*(rest+n), 64<<10) / int(elemSize)
	return max(1, min(est, limit))
}
