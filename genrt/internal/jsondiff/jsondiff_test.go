package jsondiff

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/codegen/testdata/src/jsonshapes"
	"github.com/typedkit/kit/httpx"
)

// shapesService records the requests the handlers decode and returns the
// responses it is given.
type shapesService struct {
	in    jsonshapes.All
	pair  jsonshapes.PairRequest
	count *jsonshapes.Inner
	out   jsonshapes.All
	inner *jsonshapes.Inner
	n     int
}

func (s *shapesService) Echo(_ context.Context, in jsonshapes.All) (jsonshapes.All, error) {
	s.in = in
	return s.out, nil
}

func (s *shapesService) Pair(_ context.Context, name string, tags []string) (*jsonshapes.Inner, error) {
	s.pair = jsonshapes.PairRequest{Name: name, Tags: tags}
	return s.inner, nil
}

func (s *shapesService) Count(_ context.Context, in *jsonshapes.Inner) (int, error) {
	s.count = in
	return s.n, nil
}

// shapesPair is the golden service jsonshapes served twice: through its
// generated JSON codecs, and through encoding/json (httpx.ServerStandardJSON).
type shapesPair struct {
	svc            *shapesService
	generated, std http.Handler
}

func newShapesPair() *shapesPair {
	svc := &shapesService{}
	e := jsonshapes.NewEndpoints(svc, jsonshapes.Middlewares{})
	// Values that cannot be written (NaN, a time past year 9999) are
	// server faults, which the test expects and need not log.
	quiet := httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {}))
	return &shapesPair{svc: svc, generated: jsonshapes.NewHTTPHandler(e, quiet), std: jsonshapes.NewHTTPHandler(e, quiet, httpx.ServerStandardJSON())}
}

// call serves one POST and returns the status and the body.
func call(h http.Handler, path string, body []byte) (int, []byte) {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// checkJSONShapes is the differential check of one input: the generated
// codecs must accept what encoding/json accepts and refuse what it
// refuses, decode to the same value, and write the same bytes.
func checkJSONShapes(t *testing.T, p *shapesPair, data []byte) {
	t.Helper()
	// Decoding: the same decision and the same value.
	type decoded struct {
		status int
		value  any
	}
	for _, route := range []struct {
		path string
		got  func() any
	}{
		{"/echo", func() any { return p.svc.in }},
		{"/pair", func() any { return p.svc.pair }},
		{"/count", func() any { return p.svc.count }},
	} {
		var results [2]decoded
		for i, h := range []http.Handler{p.generated, p.std} {
			*p.svc = shapesService{}
			status, _ := call(h, route.path, data)
			results[i] = decoded{status, route.got()}
		}
		require.Equal(t, results[1].status, results[0].status, "%s: status of %q (generated, then encoding/json)", route.path, data)
		if results[0].status == http.StatusOK && !reflect.DeepEqual(results[1].value, results[0].value) {
			t.Fatalf("%s: %q decodes to\n%#v\nwith the generated codec, and to\n%#v\nwith encoding/json", route.path, data, results[0].value, results[1].value)
		}
	}

	// Encoding: the same bytes for the value encoding/json decodes, with
	// strings, keys and floats from the input's raw bytes.
	var out jsonshapes.All
	_ = json.Unmarshal(data, &out)
	raw := string(data)
	variants := []func(*jsonshapes.All){
		func(*jsonshapes.All) {},
		func(a *jsonshapes.All) {
			a.Str, a.HTML, a.Name, a.QStr = raw, raw, jsonshapes.Name(raw), raw
			a.MapStr = map[string]int{raw: 1, raw + "x": 2, "": 3}
			a.Tags = jsonshapes.Tags{raw}
			a.VJ.S = raw
			if a.Inner.Deep == nil {
				a.Inner.Deep = &jsonshapes.Inner{B: raw}
			}
		},
		func(a *jsonshapes.All) {
			if len(data) >= 8 {
				a.F64 = math.Float64frombits(binary.LittleEndian.Uint64(data))
				a.QF64 = math.Float64frombits(binary.BigEndian.Uint64(data))
				a.F32 = math.Float32frombits(binary.LittleEndian.Uint32(data))
				a.OmitFloat = math.Copysign(0, -1) // empty for omitempty, as reflect.Value.IsZero says
			}
			if len(data) >= 4 {
				a.Raw = json.RawMessage(data)
				a.Time = time.Unix(int64(binary.LittleEndian.Uint32(data))<<8, int64(data[0])).In(time.FixedZone("", int(int8(data[1]))*900))
			}
		},
	}
	for i, vary := range variants {
		value := out
		vary(&value)
		var bodies [2][]byte
		var statuses [2]int
		for j, h := range []http.Handler{p.generated, p.std} {
			*p.svc = shapesService{out: value, inner: value.PInner, n: value.Int}
			statuses[j], bodies[j] = call(h, "/echo", []byte("{}"))
		}
		require.Equal(t, statuses[1], statuses[0], "status of writing variant %d of %q", i, data)
		if statuses[0] == http.StatusOK && !bytes.Equal(bodies[0], bodies[1]) {
			t.Fatalf("variant %d of %q: the generated codec writes\n%s\nand encoding/json\n%s", i, data, around(bodies[0], bodies[1]), around(bodies[1], bodies[0]))
		}
	}
}

// around returns a's bytes around the first where it differs from b.
func around(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return fmt.Sprintf("…%s|%s…", a[max(0, i-60):i], a[i:min(len(a), i+60)])
}

// jsonShapesSeeds are the inputs the differential test always runs: every
// shape with values, null for every field, and the inputs whose handling
// is encoding/json's own.
func jsonShapesSeeds() [][]byte {
	full := `{
	"id": "i", "note": "n", "depth": 3, "level2": "l2", "shared": "x", "tagged": "t",
	"bool": true, "int": -1, "i8": -128, "i16": 32767, "i32": -5, "i64": 9007199254740993,
	"uint": 1, "u8": 255, "u16": 65535, "u32": 4294967295, "u64": 18446744073709551615, "uptr": 7,
	"f32": 3.4028234e38, "f64": 1e-7, "str": "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800 <>&\u2028",
	"<html&>": "h", "kelvin": "k", "Untagged": 4, "level": 2, "name": "nm",
	"OmitInt": 1, "omitf": -0.0, "omitb": false, "omitz": 0, "omits": [], "omitm": {}, "zeros": [], "zerot": "0001-01-01T00:00:00Z",
	"zerop": {"a": 1}, "omita": [],
	"qint": "-12", "qbool": "true", "qstr": "\"q\\u00e9\"", "qf64": "1e3", "qu8": "200", "qptr": "5", "qomit": "0", "qslice": [1, 2],
	"pint": 1, "pstr": "p", "pp": 2, "plevel": 3,
	"bytes": "aGVsbG8=", "nbytes": [1, 2, 3], "barr": [1, 2, 3, 4, 5],
	"ints": [1, 2, 3], "tags": ["a", "b"], "arr": [1], "strs": ["s"], "matrix": [[1], [], [2, 3]],
	"inner": {"a": 1, "b": "b", "deep": {"a": 2, "deep": {"a": 3}}}, "pinner": {"a": 4},
	"inners": [{"a": 1}, {"b": "x"}], "pinners": [null, {"a": 2}], "page": {"items": [{"a": 1}], "next": 2},
	"mapstr": {"b": 2, "a": 1, "": 0}, "mapname": {"k": {"a": 1}}, "mapint": {"-1": "m", "10": "t", "9": "n"},
	"mapi8": {"1": true}, "mapu16": {"65535": "x"}, "maptext": {"k:a": 1, "b": 2}, "mapptr": {"a": null, "b": {"a": 1}},
	"maplist": {"a": [1], "b": null},
	"time": "2024-02-29T12:34:56.789+01:00", "ptime": "2024-01-01T00:00:00Z", "dur": 1000000000,
	"raw": { "x" : [1, 2, "<"] }, "praw": null, "num": 12.5e3,
	"any": {"a": [1, "b", null, true, {"c": 1.5}]}, "err": null, "text": "t", "ptext": "pt", "texts": ["a", "b"],
	"pj": "n=12", "pjs": ["n=1", {"N": 5}], "pjmap": {"a": "n=1"}, "vj": {"S": "<v>"}, "anon": {"x": 1},
	"Skip": "no", "-": "dash", "hidden": 1
}`
	seeds := []string{
		full,
		`{}`, ``, `   `, `null`, `[]`, `"x"`, `1`, `true`, `{"a":1,"b":"x"}`,
		// null for every field.
		nullEveryField(full),
		// Duplicates (the last wins, merging into structs, slices reused)
		// and keys matched without regard to case.
		`{"inner": {"a": 1, "b": "x"}, "inner": {"a": 2}, "INNER": {"deep": {"a": 5}}}`,
		`{"inners": [{"a": 1}, {"a": 2}], "inners": [{"b": "y"}], "Inners": [{"b": "z"}, {"a": 3}, {}]}`,
		`{"ints": [1, 2, 3], "ints": [], "mapstr": {"a": 1}, "mapstr": {"b": 2}, "pinner": {"a": 1}, "pinner": {"b": "x"}}`,
		`{"Str": "a", "STR": "b", "sTr": "c", "\u212aelvin": "kelvin sign", "KELVIN": "upper", "untagged": 5, "UNTAGGED": 6}`,
		`{"<HTML&>": "folded", "\u003chtml\u0026\u003e": "escaped key"}`,
		`{"pp": null, "pint": null, "plevel": null, "ptime": null, "ptext": null}`,
		// Bad input: syntax, types, ranges, depth.
		`{"int": 1.5}`, `{"int": 1e2}`, `{"i8": 128}`, `{"u8": -1}`, `{"uint": -0}`, `{"int": -0}`,
		`{"f32": 3.5e38}`, `{"f64": 1e400}`, `{"int": "1"}`, `{"str": 1}`, `{"bool": "true"}`, `{"inner": []}`,
		`{"ints": {}}`, `{"arr": [1, 2, 3, 4]}`, `{"bytes": "not base64!"}`, `{"bytes": "aGVsbG8"}`, `{"bytes": "aGVs\nbG8="}`,
		`{"mapint": {"x": "y"}}`, `{"mapi8": {"300": true}}`, `{"mapu16": {"-1": "x"}}`,
		`{"time": "2024-02-30T00:00:00Z"}`, `{"time": 5}`, `{"time": "2024-01-01T00:00:00\u005a"}`,
		`{"text": "bad"}`, `{"pj": "x"}`, `{"err": {}}`, `{"num": "12"}`, `{"num": "x"}`,
		`{"qint": 12}`, `{"qint": "1.5"}`, `{"qint": " 1"}`, `{"qint": ""}`, `{"qint": "nul"}`, `{"qint": "null"}`,
		`{"qbool": "True"}`, `{"qbool": "nullx"}`, `{"qstr": "x"}`, `{"qstr": "\"a\\'b\""}`, `{"qstr": "\"a\"b\""}`,
		`{"qf64": "-Inf"}`, `{"qf64": "0x1p-2"}`, `{"qf64": "+1"}`, `{"qptr": null}`, `{"qptr": "null"}`, `{"qu8": "256"}`,
		`{"qint": "007"}`, `{"qf64": "1_000"}`, `{"qint": "-"}`,
		`{"int": 01}`, `{"int": -}`, `{"int": 1.}`, `{"int": .5}`, `{"str": "\x01"}`, `{"str": "\u12"}`, `{"str": "\q"}`,
		`{"str": "unterminated}`, `{"a": 1,}`, `{"a" 1}`, `{,}`, `{"a": tru}`, `{"a": nul}`, `{} x`, `{}}`, `{"a": [1 2]}`,
		"{\"str\": \"\xff\xfe invalid \xc3\"}", "{\"str\xff\": 1}", `{"a": 1} `, "\ufeff{}",
		`{"name": "p", "tags": ["a", null, "b"], "Name": "q"}`,
	}
	out := make([][]byte, len(seeds))
	for i, s := range seeds {
		out[i] = []byte(s)
	}
	return out
}

// nullEveryField returns the object of full with every member null.
func nullEveryField(full string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(full), &m); err != nil {
		panic(err)
	}
	for k := range m {
		m[k] = json.RawMessage("null")
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// FuzzJSONCodecs is the differential test of the generated JSON codecs
// against encoding/json, on the golden service jsonshapes (every shape the
// codecs handle): for any body, the generated HTTP glue and the same glue
// with encoding/json (httpx.ServerStandardJSON) answer with the same status
// and decode the same value, and for the value encoding/json decodes, and
// variants of it with the input's raw bytes as strings, map keys, floats
// and RawMessages, both write the same bytes. go test runs the seeds; make
// fuzz runs it for FUZZTIME.
func FuzzJSONCodecs(f *testing.F) {
	for _, s := range jsonShapesSeeds() {
		f.Add(s)
	}
	p := newShapesPair()
	f.Fuzz(func(t *testing.T, data []byte) {
		checkJSONShapes(t, p, data)
	})
}

// TestJSONCodecsDepth runs the differential check on values nested up to
// encoding/json's limit of 10,000 levels and past it: in the generated
// readers of recursive structs, in skipped fields and in values left to
// encoding/json. (Too slow for the fuzzer's seeds.)
func TestJSONCodecsDepth(t *testing.T) {
	p := newShapesPair()
	nest := func(open, close string, n int) string { return strings.Repeat(open, n) + strings.Repeat(close, n) }
	for _, body := range []string{
		`{"inner": ` + nest(`{"deep":`, `}`, 9998)[:9998*8] + `{}` + strings.Repeat(`}`, 9999),
		`{"inner": ` + nest(`{"deep":`, `}`, 9999)[:9999*8] + `{}` + strings.Repeat(`}`, 10000),
		`{"any": ` + nest(`[`, `]`, 9999) + `}`,
		`{"any": ` + nest(`[`, `]`, 10000) + `}`,
		`{"unknown": ` + nest(`[`, `]`, 9999) + `}`,
		`{"unknown": ` + nest(`{"a":`, `}`, 10000)[:10000*5] + `1` + strings.Repeat(`}`, 10000) + `}`,
		`{"matrix": [` + nest(`[`, `]`, 9998) + `]}`,
	} {
		checkJSONShapes(t, p, []byte(body))
	}
	status, _ := call(p.generated, "/echo", []byte(`{"any": `+nest(`[`, `]`, 10000)+`}`))
	assert.Equal(t, http.StatusBadRequest, status, "past the limit")
}

// TestJSONCodecsClient checks the generated client's codecs against the
// same client with encoding/json (httpx.ContextWithStandardJSON): a value
// sent and read back through each arrives the same.
func TestJSONCodecsClient(t *testing.T) {
	svc := &shapesService{}
	srv := httptest.NewServer(jsonshapes.NewHTTPHandler(jsonshapes.NewEndpoints(svc, jsonshapes.Middlewares{})))
	defer srv.Close()
	client, err := jsonshapes.NewHTTPClient(srv.URL)
	require.NoError(t, err)
	var full jsonshapes.All
	require.NoError(t, json.Unmarshal(jsonShapesSeeds()[0], &full))
	type result struct {
		got, sent jsonshapes.All
		inner     *jsonshapes.Inner
		pair      jsonshapes.PairRequest
	}
	var results []result
	for _, ctx := range []context.Context{context.Background(), httpx.ContextWithStandardJSON(context.Background())} {
		*svc = shapesService{out: full, inner: &jsonshapes.Inner{A: 1, B: "<b>"}}
		var r result
		r.got, err = client.Echo(ctx, full)
		require.NoError(t, err)
		r.inner, err = client.Pair(ctx, "n", []string{"a"})
		require.NoError(t, err)
		r.sent, r.pair = svc.in, svc.pair
		results = append(results, r)
	}
	assert.Equal(t, results[1], results[0], "the generated client, then encoding/json")
	assert.Equal(t, &jsonshapes.Inner{A: 1, B: "<b>"}, results[0].inner)
	assert.Equal(t, jsonshapes.PairRequest{Name: "n", Tags: []string{"a"}}, results[0].pair)
}

// TestJSONCodecsErrors checks that a body the generated decoder refuses is
// answered as encoding/json's refusal is: 400 with a problem body that
// says what and where, and no more.
func TestJSONCodecsErrors(t *testing.T) {
	p := newShapesPair()
	for _, body := range []string{`{"int": "x"}`, `{"str": 1}`, `{"inner": {"a": true}}`, `{"a": 1,}`, `{"int": 1e2}`, `{"time": 5}`, `{"depth": "x"}`, `{"id": 1}`, `{"mapint": {"x": 1}}`, `{"mapint": {"x": "y"}}`, `{"mapi8": {"1": 2}}`, `{"inners": [{"a": "x"}]}`} {
		t.Run(body, func(t *testing.T) {
			status, got := call(p.generated, "/echo", []byte(body))
			stdStatus, want := call(p.std, "/echo", []byte(body))
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, stdStatus, status)
			var problem, stdProblem map[string]any
			require.NoError(t, json.Unmarshal(got, &problem), "%s", got)
			require.NoError(t, json.Unmarshal(want, &stdProblem), "%s", want)
			assert.Equal(t, stdProblem, problem)
			assert.NotContains(t, string(got), "genrt")
			fmt.Fprintln(testWriter{t}, string(got))
		})
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
