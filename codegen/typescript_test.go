package codegen

import (
	"go/types"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

// newTSGen returns a generator of TypeScript for svc with no components
// named yet.
func newTSGen(svc *Service) *tsGen {
	return &tsGen{svc: svc, opts: &Options{}, names: map[string]string{}, used: map[string]bool{}, enums: map[string]*tsEnum{},
		shaped: map[string]bool{}, read: map[string]bool{}, docs: map[string]string{},
		g: newOpenAPIGen(svc)}
}

// The TypeScript type of each kind of schema the OpenAPI generator
// writes, and the shape the JSON reader gets for it.
func TestTypeScriptTypeOfSchema(t *testing.T) {
	t.Parallel()
	tg := newTSGen(nil)
	tg.names["User"] = "User"
	tg.names["Response"] = "Response_"
	tg.shaped["Response"] = true
	color := map[string]any{"type": "integer", "format": "int32", "minimum": math.MinInt32, "maximum": math.MaxInt32,
		"examples": []any{int64(1), int64(2)}, "description": "Color: ColorRed = 1, ColorBlue = 2. Other values are accepted and kept."}
	tg.enums[schemaKey(color)] = &tsEnum{name: "Color", schema: color}
	int64s := basicSchema(basicKinds[types.Int64])
	uint64s := map[string]any{"type": "integer", "minimum": 0, "maximum": uint64(math.MaxUint64)}
	tests := []struct {
		name   string
		schema map[string]any
		want   string
		shape  string
	}{
		{"string", map[string]any{"type": "string"}, "string", ""},
		{"time", map[string]any{"type": "string", "format": "date-time"}, "string", ""},
		{"bytes", map[string]any{"type": []string{"string", "null"}, "contentEncoding": "base64"}, "string | null", ""},
		{"bool", map[string]any{"type": "boolean"}, "boolean", ""},
		{"int32", map[string]any{"type": "integer", "format": "int32", "minimum": math.MinInt32, "maximum": math.MaxInt32}, "number", ""},
		{"uint16", map[string]any{"type": "integer", "minimum": 0, "maximum": math.MaxUint16}, "number", ""},
		{"int64", int64s, "Int64", `"i"`},
		{"uint64 by its bounds", uint64s, "Int64", `"i"`},
		{"float64", map[string]any{"type": "number", "format": "double"}, "number", ""},
		{"pointer to int64", nullable(int64s), "Int64 | null", `"i"`},
		{"pointer to a struct", nullable(ref("User")), "User | null", ""},
		{"reference", ref("User"), "User", ""},
		{"reference renamed, shaped", ref("Response"), "Response_", `{ r: "Response_" }`},
		{"slice", map[string]any{"type": []string{"array", "null"}, "items": map[string]any{"type": "string"}}, "string[] | null", ""},
		{"slice of pointers", map[string]any{"type": "array", "items": nullable(ref("User"))}, "(User | null)[]", ""},
		{"slice of int64", map[string]any{"type": "array", "items": int64s}, "Int64[]", `{ e: "i" }`},
		{"array", map[string]any{"type": "array", "items": map[string]any{"type": "number"}, "minItems": int64(3), "maxItems": int64(3)}, "number[]", ""},
		{"map", map[string]any{"type": []string{"object", "null"}, "additionalProperties": map[string]any{"type": "boolean"}}, "Record<string, boolean> | null", ""},
		{"map of int64 slices", map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "array", "items": uint64s}},
			"Record<string, Int64[]>", `{ e: { e: "i" } }`},
		{"any JSON", map[string]any{"description": "Any JSON value: RawMessage has its own JSON encoding."}, "unknown", `"a"`},
		{"quoted bool", map[string]any{"type": "string", "enum": []string{"true", "false"}}, `"true" | "false"`, ""},
		{"quoted int64", map[string]any{"type": "string", "pattern": "^(0|-?[1-9][0-9]*)$"}, "string", ""},
		{"anonymous struct", map[string]any{"type": "object", "required": []string{"a"}, "properties": map[string]any{
			"a": map[string]any{"type": "string"}, "b-c": int64s}}, `{ a: string; "b-c"?: Int64 }`, `{ o: { "b-c": "i" } }`},
		{"a property named __proto__", map[string]any{"type": "object", "properties": map[string]any{"__proto__": int64s}},
			`{ __proto__?: Int64 }`, `{ o: { ["__proto__"]: "i" } }`},
		{"empty struct", map[string]any{"type": "object", "properties": map[string]any{}}, "Record<string, never>", ""},
		{"enum", color, "Color", ""},
		{"pointer to an enum", nullable(color), "Color | null", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tg.typeOf(tt.schema).text)
			assert.Equal(t, tt.shape, tg.shapeOf(tt.schema))
		})
	}
}

// Notes say what the TypeScript type does not.
func TestTypeScriptNotes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		schema map[string]any
		want   string
	}{
		{"time", map[string]any{"type": "string", "format": "date-time"}, "An RFC 3339 date-time"},
		{"pointer to a time", nullable(map[string]any{"type": "string", "format": "date-time"}), "An RFC 3339 date-time"},
		{"bytes", map[string]any{"type": []string{"string", "null"}, "contentEncoding": "base64"}, "base64"},
		{"quoted integer", map[string]any{"type": "string", "pattern": "^(0|[1-9][0-9]*)$"}, "An integer, as a decimal string."},
		{"times", map[string]any{"type": "array", "items": map[string]any{"type": "string", "format": "date-time"}}, "Each item: an RFC 3339"},
		{"array", map[string]any{"type": "array", "items": map[string]any{"type": "number"}, "minItems": int64(2), "maxItems": int64(2)}, "Exactly 2 items."},
		{"integer keys", map[string]any{"type": "object", "propertyNames": map[string]any{"pattern": "^(0|[1-9][0-9]*)$"},
			"additionalProperties": map[string]any{"type": "string"}}, "The keys are integers"},
		{"string", map[string]any{"type": "string"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tsNote(tt.schema)
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.want)
		})
	}
}

func TestLowerCamel(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"CreateUser": "createUser", "Get": "get", "ID": "id", "GetID": "getID", "HTTPServer": "httpServer",
		"URLs": "urls", "IDsByName": "idsByName", "A": "a", "X2Y": "x2Y", "Constructor": "constructor", "lower": "lower",
	} {
		assert.Equal(t, want, lowerCamel(in), in)
	}
}

func TestTypeScriptNames(t *testing.T) {
	t.Parallel()
	t.Run("keys and access", func(t *testing.T) {
		t.Parallel()
		for name, want := range map[string][2]string{
			"id":         {"id", ".id"},
			"created_at": {"created_at", ".created_at"},
			"$x":         {"$x", ".$x"},
			"min-score":  {`"min-score"`, `["min-score"]`},
			"a.b":        {`"a.b"`, `["a.b"]`},
			"1st":        {`"1st"`, `["1st"]`},
			"default":    {"default", ".default"},
			"é":          {`"é"`, `["é"]`},
		} {
			assert.Equal(t, want[0], tsKey(name), name)
			assert.Equal(t, want[1], tsAccess(name), name)
		}
	})
	t.Run("strings", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, `"a\"b\\c\n<>&"`, tsString("a\"b\\c\n<>&"))
		assert.Equal(t, `"\u2028"`, tsString("\u2028"), "JSON escapes the line separator for older engines")
	})
	t.Run("identifiers", func(t *testing.T) {
		t.Parallel()
		for name, want := range map[string]bool{
			"User": true, "_x": true, "Über": true, "x1": true, "1x": false, "": false,
			"class": false, "string": false, "Promise": false, "Response": false, "a-b": false,
		} {
			assert.Equal(t, want, tsIdentifier(name), name)
		}
	})
	t.Run("free names", func(t *testing.T) {
		t.Parallel()
		tg := newTSGen(nil)
		for n := range tsReserved {
			tg.used[n] = true
		}
		tg.used["KitError"] = true
		assert.Equal(t, "User", tg.freeName("User", "Model"))
		assert.Equal(t, "ModelUser", tg.freeName("User", "Model"), "a type of another package")
		assert.Equal(t, "User_", tg.freeName("User", "Model"))
		assert.Equal(t, "Response_", tg.freeName("Response", ""), "the platform's Response")
		assert.Equal(t, "KitError_", tg.freeName("KitError", ""), "the file's own")
		assert.Equal(t, "class_", tg.freeName("class", ""), "a reserved word")
		assert.Equal(t, "T_1x", tg.freeName("1x", ""), "not an identifier")
	})
	t.Run("doc comments", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, "/** One line. */\n", tsDoc("", "One line."))
		assert.Equal(t, "  /**\n   * a\n   *\n   * b *\\/ c\n   */\n", tsDoc("  ", "a\n\nb */ c"))
		assert.Empty(t, tsDoc("", " "))
		long := strings.Repeat("word ", 40)
		for _, l := range strings.Split(tsDoc("", long), "\n") {
			assert.LessOrEqual(t, len(l), 80, l)
		}
	})
}

// The client maps an error answer without a code to the code httpx's own
// client gives it, and an error without a message to kit's message.
func TestTypeScriptErrorTables(t *testing.T) {
	t.Parallel()
	for status := 100; status < 600; status++ {
		want := httpx.CodeFromStatus(status)
		if want == kit.OK {
			want = kit.Unknown // as httpx.DecodeError does
		}
		assert.Equal(t, want.String(), tsCodeFromStatus(status), "status %d", status)
	}
	var names []string
	for _, c := range kit.Codes() {
		if c == kit.OK {
			continue
		}
		names = append(names, c.String())
		assert.Equal(t, kit.MessageOf(kit.NewError(c, "")), tsDefaultMessages[c.String()], "%s", c)
	}
	assert.Equal(t, names, codeNamesForSchema, "KitCode lists kit's codes")
	assert.Len(t, tsDefaultMessages, len(names))
}

// loadSource loads the service typ of src, the one file of a module of
// its own in a temporary directory.
func loadSource(t *testing.T, typ, src string) *Service {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/s\n\ngo 1.24\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "service.go"), []byte(src), 0o644))
	svc, err := Load(dir, typ)
	require.NoError(t, err)
	return svc
}

// What the golden services do not have: enums, names the file must
// change, JSON names that are not identifiers, bigint enum values.
func TestTypeScriptRender(t *testing.T) {
	t.Parallel()
	svc := loadSource(t, "S", `package tsrender

import "context"

// Status is an enum.
type Status int32

// The statuses.
const (
	StatusActive  Status = 1
	StatusBlocked Status = 2
	StatusAlias   Status = 2
)

// Big is an enum with a value beyond 2^53.
type Big uint64

// The big values.
const (
	BigSmall Big = 1
	BigHuge  Big = 1 << 60
)

// Response is named like the platform's Response.
type Response struct {
	Status   Status            `+"`json:\"status\"`"+`
	Statuses map[string]Status `+"`json:\"statuses\"`"+`
	Big      *Big              `+"`json:\"big,omitempty\"`"+`
	Score    float64           `+"`json:\"min-score\"`"+`
	Count    int64             `+"`json:\"count,string\"`"+`
}

// S has methods with names TypeScript treats specially.
type S interface {
	// Constructor is named like the class's constructor.
	//
	//kit:http GET /things/{rest...}
	Constructor(ctx context.Context, rest string, status Status) (Response, error)
	// Files has a parameter named with a dash.
	Files(ctx context.Context, r Response) (int, error)
}
`)
	opts := &Options{Type: "S", TypeScript: true}
	opts.defaults()
	out, err := renderTypeScript(svc, opts)
	require.NoError(t, err)
	src := string(out)
	assert.True(t, strings.HasPrefix(src, generatedHeader+"\n"), "Write recognises the file")
	for _, want := range []string{
		"export type Status = 1 | 2;",
		"export const Status = {\n  StatusActive: 1,\n  StatusAlias: 2,\n  StatusBlocked: 2,\n} as const;",
		"export type Big = 1 | 1152921504606846976n;",
		"  BigHuge: 1152921504606846976n,",
		"A value beyond 2^53 − 1 arrives as a bigint.",
		"a newer server may send a value this union does not list",
		"export interface Response_ {",
		"Response in the OpenAPI document: the name is taken in TypeScript.",
		"  big?: Big | null;",
		"  statuses: Record<string, Status> | null;",
		"  \"min-score\": number;",
		"  /** An integer, as a decimal string. */\n  count: string;",
		"async constructor_(req: ConstructorRequest, options?: CallOptions): Promise<Response_> {",
		`"/things/" + kitPath(req.rest)`,
		`kitQuery(query, "status", req.status);`,
		`async files(req: Response_, options?: CallOptions): Promise<Int64> {`,
		`Response_: { o: { big: "i" } },`,
		"GET /things/{rest...}.",
	} {
		flat := strings.ReplaceAll(src, "\n * ", " ") // doc comments unwrapped
		assert.True(t, strings.Contains(src, want) || strings.Contains(flat, want), "the file has %q", want)
	}
	assert.False(t, strings.Contains(src, "kitOmit"), "no method sends a body with path parameters")
	for _, anyType := range []string{": any", "as any", "<any>", "any[]"} {
		assert.False(t, strings.Contains(src, anyType), "no any: %q", anyType)
	}

	again, err := renderTypeScript(svc, opts)
	require.NoError(t, err)
	assert.Equal(t, src, string(again), "deterministic")
}

// Write writes the TypeScript file, refuses to overwrite one it did not
// write, and removes it when the transport is not asked for.
func TestWriteTypeScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/src/minimal/service.go")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "service.go"), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/echo\n\ngo 1.24\n"), 0o644))
	ts := filepath.Join(dir, "echo.ts")

	written, err := Write(Options{Dir: dir, Type: "Echo", TypeScript: true})
	require.NoError(t, err)
	assert.Contains(t, written, ts)
	data, err := os.ReadFile(ts)
	require.NoError(t, err)
	assert.Contains(t, string(data), "export class EchoClient {")

	_, err = Write(Options{Dir: dir, Type: "Echo"})
	require.NoError(t, err)
	assert.NoFileExists(t, ts, "a stale client is removed")

	require.NoError(t, os.WriteFile(ts, []byte("export const mine = 1;\n"), 0o644))
	_, err = Write(Options{Dir: dir, Type: "Echo", TypeScript: true})
	assert.ErrorContains(t, err, "echo.ts exists and was not written by kitgen")

	_, err = Write(Options{Dir: dir, Type: "Echo", TypeScript: true, TypeScriptFile: "client.ts"})
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(dir, "client.ts"))

	_, err = Generate(Options{Dir: dir, Type: "Echo", TypeScript: true, TypeScriptFile: "web/client.ts"})
	assert.EqualError(t, err, `output file "web/client.ts" must be a file name`)
}
