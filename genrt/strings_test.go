package genrt

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// readStrings reads every field of msg as a string with s, the way the
// generated readers do, tracking the offset at which msg ends.
func readStrings(t testing.TB, s *Strings, msg []byte) []string {
	var out []string
	b, end := msg, len(msg)
	for len(b) > 0 {
		_, _, n, err := ConsumeTag(b)
		require.NoError(t, err)
		b = b[n:]
		x, n, err := ConsumeText(b, "f")
		require.NoError(t, err)
		b = b[n:]
		out = append(out, s.String(end-len(b), x))
	}
	return out
}

func stringsMessage(values ...string) []byte {
	var b []byte
	for _, v := range values {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, v)
	}
	return b
}

// The strings read do not alias the message's bytes, which the transport
// may reuse, and share one copy while they lie within StringChunk. Serial:
// it counts allocations.
func TestStringsCopyOnce(t *testing.T) {
	want := []string{"alpha", "", "beta", strings.Repeat("g", 300), "δέλτα"}
	msg := stringsMessage(want...)
	s := NewStrings(msg)
	got := readStrings(t, &s, msg)
	assert.Equal(t, want, got)
	for i := range msg {
		msg[i] = 'X'
	}
	assert.Equal(t, want, got, "the strings outlive the buffer they were read from")

	msg = stringsMessage(want...)
	allocs := testing.AllocsPerRun(100, func() {
		s := NewStrings(msg)
		b, end := msg, len(msg)
		for len(b) > 0 {
			_, _, n, _ := ConsumeTag(b)
			b = b[n:]
			x, n, _ := ConsumeText(b, "f")
			b = b[n:]
			_ = s.String(end-len(b), x)
		}
	})
	assert.Equal(t, 1.0, allocs, "one copy for every string of a small message")
}

// Strings farther apart than StringChunk take a copy each, a string longer
// than StringChunk a copy of its own, so a kept string pins at most
// StringChunk of the message besides itself.
func TestStringsChunks(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("l", StringChunk+10)
	pad := strings.Repeat("p", StringChunk)
	want := []string{"a", pad, "b", long, "c", "d"}
	msg := stringsMessage(want...)
	s := NewStrings(msg)
	got := readStrings(t, &s, msg)
	assert.Equal(t, want, got)
	assert.Equal(t, len("c")+2+len("d"), len(s.s), "the last copy starts at its first string and ends with the message")
}

// A string whose offset does not match the message's bytes is copied on
// its own rather than taken from the wrong place.
func TestStringsWrongOffset(t *testing.T) {
	t.Parallel()
	msg := stringsMessage("hello", "world")
	s := NewStrings(msg)
	other := []byte("other")
	assert.Equal(t, "other", s.String(7, other))
	assert.Equal(t, "other", s.String(1000, other))
	assert.Equal(t, "other", s.String(2, other))
	assert.Equal(t, []string{"hello", "world"}, readStrings(t, &s, msg))
}

// MakeSlice guesses from the first element and holds its guess to twice
// the remaining bytes (64 KiB for small messages).
func TestMakeSliceCapacity(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		rest, n int
		size    uintptr
		want    int
	}{
		{"like elements", 99 * 51, 50, 72, 100},
		{"last element", 0, 50, 72, 1},
		{"zero-size elements", 1000, 1, 0, 501},
		{"a small first element before a large field", 1 << 20, 1, 72, (2 * (1<<20 + 1)) / 72},
		{"a large element", 100, 1 << 20, 8, 1},
	} {
		assert.Equal(t, c.want, capacity(c.rest, c.n, c.size), c.name)
	}
	s := MakeSlice[string](100, 9)
	assert.Equal(t, 0, len(s))
	assert.Equal(t, 11, cap(s))
}

// Buffer pools a large message's bytes and allocates a small one's.
func TestBuffer(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 10, 1 << 10, 1<<10 + 1, 1 << 20} {
		b, data := Buffer(n)
		require.Len(t, b, n)
		for i := range b {
			b[i] = byte(i)
		}
		assert.Equal(t, n, data.Len())
		assert.Equal(t, string(b), string(data.Materialize()))
		data.Free()
	}
	_, data := Buffer(1 << 20)
	_, plain := data[0].(mem.SliceBuffer)
	assert.False(t, plain, "a large message's buffer comes from the pool")
	data.Free()
}

// The slices of repeated string fields share room without sharing
// elements: an append past one's capacity allocates rather than writing
// into the next.
func TestStringsSlice(t *testing.T) {
	t.Parallel()
	var s Strings
	a := s.Slice(10, 4) // 1 + 10/5 = 3
	b := s.Slice(10, 4)
	assert.Equal(t, 3, cap(a))
	a = append(a, "a1", "a2", "a3")
	b = append(b, "b1")
	a = append(a, "a4")
	assert.Equal(t, []string{"a1", "a2", "a3", "a4"}, a)
	assert.Equal(t, []string{"b1"}, b)
	big := s.Slice(1000, 1)
	assert.Equal(t, 501, cap(big), "a slice larger than half the room is made on its own")
}
