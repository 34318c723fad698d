package genrt

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/typedkit/kit"
)

// The back-to-front writers write what protowire appends.
func TestPutMatchesAppend(t *testing.T) {
	t.Parallel()
	for _, v := range []uint64{0, 1, 127, 128, 300, 1<<14 - 1, 1 << 14, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		want := protowire.AppendVarint(nil, v)
		b := make([]byte, len(want)+3)
		i := PutVarint(b, len(b), v)
		assert.Equal(t, 3, i, "varint %d starts after the free bytes", v)
		assert.Equal(t, want, b[i:], "varint %d", v)
	}
	b := make([]byte, 12)
	i := PutFixed64(b, len(b), 0x0102030405060708)
	i = PutFixed32(b, i, 0x0a0b0c0d)
	assert.Equal(t, 0, i)
	assert.Equal(t, protowire.AppendFixed64(protowire.AppendFixed32(nil, 0x0a0b0c0d), 0x0102030405060708), b)

	s := "héllo"
	b = make([]byte, protowire.SizeBytes(len(s)))
	assert.Equal(t, 0, PutString(b, len(b), s))
	assert.Equal(t, protowire.AppendString(nil, s), b)
	assert.Equal(t, 0, PutBytes(b, len(b), []byte(s)))
	assert.Equal(t, protowire.AppendBytes(nil, []byte(s)), b)
}

func TestPutTimestampAndDuration(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{{}, time.Unix(0, 0), time.Unix(-1, 999999999), time.Date(2024, 2, 29, 1, 2, 3, 4, time.UTC)} {
		want := AppendTimestamp(nil, tm)
		require.Len(t, want, SizeTimestamp(tm))
		b := make([]byte, len(want))
		assert.Equal(t, 0, PutTimestamp(b, len(b), tm))
		assert.Equal(t, string(want), string(b), "%v", tm)
	}
	for _, d := range []time.Duration{0, 1, -1, time.Second, -90*time.Second - 5, math.MaxInt64, math.MinInt64} {
		want := AppendDuration(nil, d)
		require.Len(t, want, SizeDuration(d))
		b := make([]byte, len(want))
		assert.Equal(t, 0, PutDuration(b, len(b), d))
		assert.Equal(t, string(want), string(b), "%v", d)
	}
}

func TestGrow(t *testing.T) {
	t.Parallel()
	b, buf := Grow([]byte("ab"), 3)
	copy(buf, "cde")
	assert.Equal(t, "abcde", string(b))
	b, buf = Grow(nil, 0)
	assert.Empty(t, b)
	assert.Empty(t, buf)
}

// Texts hand the write pass what the size pass kept, last first; the
// first failure is an Internal error.
func TestTexts(t *testing.T) {
	t.Parallel()
	var ts Texts
	assert.Equal(t, 1, ts.Add([]byte("a"), nil, "f"))
	assert.Equal(t, 2, ts.Add([]byte("bc"), nil, "g"))
	assert.NoError(t, ts.Err())
	assert.Equal(t, "bc", string(ts.Pop()))
	assert.Equal(t, "a", string(ts.Pop()))

	ts = Texts{}
	ts.Add(nil, errors.New("no text today"), "f")
	ts.Add([]byte("\xff"), nil, "g")
	require.Error(t, ts.Err())
	assert.Equal(t, kit.Internal, kit.CodeOf(ts.Err()))
	assert.Contains(t, ts.Err().Error(), "field f")

	ts = Texts{}
	ts.Add([]byte("\xff"), nil, "g")
	assert.Contains(t, ts.Err().Error(), "not valid UTF-8")
}

func TestConsumeText(t *testing.T) {
	t.Parallel()
	b := protowire.AppendString(nil, "1.2.3.4")
	v, n, err := ConsumeText(b, "addr")
	require.NoError(t, err)
	assert.Equal(t, len(b), n)
	assert.Equal(t, "1.2.3.4", string(v))
	_, _, err = ConsumeText(protowire.AppendString(nil, "\xff"), "addr")
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	err = TextError("addr", errors.New("bad"))
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(ErrDepth))
}
