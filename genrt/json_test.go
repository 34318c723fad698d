package genrt

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// marshal is what encoding/json writes for v.
func marshal(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestJSONWriterString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `"quoted" \back\slash`, "<script>&amp;</script>", "\x00\x01\x1f\x7f", "\b\f\n\r\t",
		"é 😀 \u2028 \u2029", "\xff\xfe invalid \xc3", "\xed\xa0\x80 surrogate", strings.Repeat("a<", 100),
	} {
		var w JSONWriter
		w.String(s)
		assert.Equal(t, marshal(t, s), string(w.B), "%q", s)
		w.Reset()
		w.QuotedString(s)
		assert.Equal(t, marshal(t, struct {
			S string `json:",string"`
		}{s})[len(`{"S":`):len(w.B)+len(`{"S":`)], string(w.B), "%q with the string option", s)
	}
}

func TestJSONWriterNumbers(t *testing.T) {
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 1e-7, 9.999999e-7, 1e20, 1e21, 1e21 - 1, 123456789012345678901234567890,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.MaxFloat32, math.SmallestNonzeroFloat32, 3.4028235e38, 1.5e-9, 2.5e+100}
	for _, f := range floats {
		var w JSONWriter
		w.Float(f, 64)
		assert.Equal(t, marshal(t, f), string(w.B), "%v as float64", f)
		if math.IsInf(float64(float32(f)), 0) {
			continue
		}
		w.Reset()
		w.Float(float64(float32(f)), 32)
		assert.Equal(t, marshal(t, float32(f)), string(w.B), "%v as float32", f)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		var w JSONWriter
		w.Float(f, 64)
		_, err := json.Marshal(f)
		assert.Error(t, err)
		assert.Error(t, w.Err(), "%v", f)
	}
	var w JSONWriter
	w.Int(math.MinInt64)
	w.Byte(',')
	w.Uint(math.MaxUint64)
	w.Byte(',')
	w.Bool(true)
	assert.Equal(t, "-9223372036854775808,18446744073709551615,true", string(w.B))
}

func TestJSONWriterValues(t *testing.T) {
	tm := time.Date(2024, 2, 29, 1, 2, 3, 4, time.FixedZone("x", 3600))
	cases := []struct {
		name  string
		write func(*JSONWriter)
		want  any
	}{
		{"time", func(w *JSONWriter) { w.Time(tm) }, tm},
		{"zero time", func(w *JSONWriter) { w.Time(time.Time{}) }, time.Time{}},
		{"bytes", func(w *JSONWriter) { w.Bytes([]byte("hello\xff")) }, []byte("hello\xff")},
		{"nil bytes", func(w *JSONWriter) { w.Bytes(nil) }, []byte(nil)},
		{"empty bytes", func(w *JSONWriter) { w.Bytes([]byte{}) }, []byte{}},
		{"raw", func(w *JSONWriter) { w.RawMessage([]byte(" { \"a\" : [1, \"<\u2028>\"] } ")) }, json.RawMessage(" { \"a\" : [1, \"<\u2028>\"] } ")},
		{"nil raw", func(w *JSONWriter) { w.RawMessage(nil) }, json.RawMessage(nil)},
		{"value", func(w *JSONWriter) { w.Value(map[string]any{"b": 1, "a": "<"}) }, map[string]any{"b": 1, "a": "<"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w JSONWriter
			c.write(&w)
			require.NoError(t, w.Err())
			assert.Equal(t, marshal(t, c.want), string(w.B))
		})
	}
	for _, bad := range []func(*JSONWriter){
		func(w *JSONWriter) { w.Time(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) },
		func(w *JSONWriter) { w.RawMessage([]byte("{")) },
		func(w *JSONWriter) { w.Value(func() {}) },
	} {
		var w JSONWriter
		bad(&w)
		assert.Error(t, w.Err())
	}
}

func TestSortedKeys(t *testing.T) {
	assert.Equal(t, []string{"", "A", "a", "b"}, SortedKeys(map[string]int{"b": 1, "a": 2, "A": 3, "": 4}))
	keys := SortedIntKeys(map[int]bool{10: true, 9: true, -1: true, 100: true})
	var texts []string
	for _, k := range keys {
		texts = append(texts, k.Text)
	}
	assert.Equal(t, []string{"-1", "10", "100", "9"}, texts, "by the text, as encoding/json sorts")
	assert.Len(t, SortedUintKeys(map[uint8]int{1: 1, 2: 2}), 2)
}

func TestJSONDecoderScalars(t *testing.T) {
	// The same decision, and the same value when accepted (a refused
	// body is dropped whole).
	ints := []string{"0", "-0", "1", "-1", "127", "128", "-129", "9223372036854775807", "9223372036854775808", "1.0", "1e2", "01", "-", "\"1\"", "null", "true", "[]", "{}", "1 2"}
	for _, in := range ints {
		var std, got int8
		stdErr := json.Unmarshal([]byte(in), &std)
		err := UnmarshalJSON([]byte(in), &got, JSONInt[int8])
		assert.Equal(t, stdErr == nil, err == nil, "%s: %v %v", in, stdErr, err)
		if err == nil {
			assert.Equal(t, std, got, in)
		}
		var stdU, gotU uint16
		stdErr = json.Unmarshal([]byte(in), &stdU)
		err = UnmarshalJSON([]byte(in), &gotU, JSONUint[uint16])
		assert.Equal(t, stdErr == nil, err == nil, "%s as uint16: %v %v", in, stdErr, err)
		if err == nil {
			assert.Equal(t, stdU, gotU, in)
		}
		var stdF, gotF float32
		stdErr = json.Unmarshal([]byte(in), &stdF)
		err = UnmarshalJSON([]byte(in), &gotF, JSONFloat[float32])
		assert.Equal(t, stdErr == nil, err == nil, "%s as float32: %v %v", in, stdErr, err)
		if err == nil {
			assert.Equal(t, stdF, gotF, in)
		}
	}
	var b bool
	require.NoError(t, UnmarshalJSON([]byte(" true "), &b, JSONBool[bool]))
	assert.True(t, b)
	require.Error(t, UnmarshalJSON([]byte("tru"), &b, JSONBool[bool]))
	var s string
	require.NoError(t, UnmarshalJSON([]byte(`"a\u00e9\ud83d\ude00\ud800x\/"`), &s, JSONString[string]))
	assert.Equal(t, "aé😀\ufffdx/", s)
}

func TestJSONDecoderErrorsAreEncodingJSONs(t *testing.T) {
	for _, in := range []string{`{`, `{"a":}`, `[1,]`, `"\x"`, "\"\x01\"", `nul`, `1 2`, `{"a" 1}`, ``} {
		var std, got string
		stdErr := json.Unmarshal([]byte(in), &std)
		err := UnmarshalJSON([]byte(in), &got, func(d *JSONDecoder, v *string) {
			if d.BeginObject(TypeOf[map[string]any]) {
				for first := true; d.More(first, '}'); first = false {
					d.Key()
					d.Skip()
				}
				return
			}
			JSONString(d, v)
		})
		require.Error(t, err, in)
		assert.Equal(t, stdErr.Error(), err.Error(), in)
	}
}

// FuzzJSONDecoder checks the decoder's syntax against encoding/json's on any
// input, its strings against json.Unmarshal's, and the writer's strings and
// compaction against json.Marshal's and json.Compact's.
func FuzzJSONDecoder(f *testing.F) {
	for _, s := range []string{`{}`, `[1,"a",null,true,{"b":-1.5e3}]`, `"a\u00e9\ud800"`, "\"\xff\"", `{"a":1,}`, `01`, `1.`, `-`, `[`, ` 1 `, `"\q"`, `{"a" : [ ] }`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d JSONDecoder
		d.ResetJSON(data)
		d.Skip()
		d.End()
		if valid := json.Valid(data); valid != (d.Err() == nil) {
			t.Fatalf("%q: json.Valid %v, decoder %v", data, valid, d.Err())
		}
		var std, got string
		stdErr := json.Unmarshal(data, &std)
		err := UnmarshalJSON(data, &got, JSONString[string])
		if (stdErr == nil) != (err == nil) || err == nil && std != got {
			t.Fatalf("%q: encoding/json %q %v, decoder %q %v", data, std, stdErr, got, err)
		}
		var w JSONWriter
		w.String(string(data))
		if want, _ := json.Marshal(string(data)); !bytes.Equal(want, w.B) {
			t.Fatalf("%q: json.Marshal %s, writer %s", data, want, w.B)
		}
		if json.Valid(data) {
			w.Reset()
			w.RawMessage(data)
			if want, _ := json.Marshal(json.RawMessage(data)); !bytes.Equal(want, w.B) {
				t.Fatalf("%q: json.Marshal %s, writer %s", data, want, w.B)
			}
		}
	})
}
