package codegen

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// generateBad generates the HTTP and gRPC files of the interface S in src,
// put into testdata/bad as service.go, and returns the error's text with
// the directory taken out.
func generateBad(t *testing.T, src string) (map[string][]byte, string) {
	t.Helper()
	dir, err := filepath.Abs("testdata/bad")
	require.NoError(t, err)
	svc, err := load(dir, "S", map[string][]byte{filepath.Join(dir, "service.go"): []byte(src)})
	var files map[string][]byte
	if err == nil {
		files, err = generate(svc, Options{Dir: t.TempDir(), Type: "S", HTTP: true, GRPC: true})
	} else if svc != nil {
		// What Generate does: the protobuf model's problems join the
		// model's.
		var errs errorList
		errs.add(err)
		_, perr := buildProto(svc, &lockFile{entries: map[string]map[string]int{}})
		errs.add(perr)
		err = errs.err()
	}
	if err == nil {
		return files, ""
	}
	return nil, strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
}

// TestGRPCRefusesLossyTypes checks that every type gRPC cannot carry
// without loss is an error naming the method and the field, all of them in
// one run.
func TestGRPCRefusesLossyTypes(t *testing.T) {
	t.Parallel()
	const head = "package bad\n\nimport (\n\t\"context\"\n\t\"encoding/json\"\n\t\"net/netip\"\n)\n\nvar _ json.RawMessage\nvar _ netip.Addr\n\n"
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"only unexported fields", `type Opaque struct{ x int }
type T struct{ O Opaque ` + "`json:\"o\"`" + ` }
type S interface{ M(ctx context.Context, t T) error }`,
			"service.go:13:16: S.M: message T: field O: bad.Opaque has no exported fields, so its message would carry nothing: export its fields, or give it MarshalText and UnmarshalText methods to send it as a string (hint: see the type table in the codegen package documentation)"},
		{"lone request of only unexported fields", `type Opaque struct{ x int }
type S interface{ M(ctx context.Context, o Opaque) error }`,
			"service.go:13:19: S.M: the request: bad.Opaque has no exported fields, so its message would carry nothing: export its fields, or give it MarshalText and UnmarshalText methods to send it as a string (hint: see the type table in the codegen package documentation)"},
		{"own JSON encoding", `type Money struct{ Units int }
func (Money) MarshalJSON() ([]byte, error) { return nil, nil }
type S interface{ M(ctx context.Context, m Money) (int, error) }`,
			"service.go:14:19: S.M: message MRequest: field M: bad.Money has its own JSON encoding (MarshalJSON or UnmarshalJSON), which gRPC cannot carry; give it MarshalText and UnmarshalText methods to send it as a string (hint: see the type table in the codegen package documentation)"},
		{"MarshalText alone", `type Half struct{ n int }
func (Half) MarshalText() ([]byte, error) { return nil, nil }
type S interface{ M(ctx context.Context) (Half, error) }`,
			"service.go:14:19: S.M: message MResponse: field Value: bad.Half has a MarshalText method but no UnmarshalText, so it cannot be read back; give it both to send it as a string (hint: see the type table in the codegen package documentation)"},
		{"names protoc confuses", `type T struct {
	A int ` + "`json:\"ab\"`" + `
	B int ` + "`json:\"a_b\"`" + `
}
type S interface{ M(ctx context.Context, t T) error }`,
			"service.go:14:2: S.M: message T: fields A (ab) and B (a_b) have protobuf names that protoc refuses together, as their JSON names differ only in case or underscores; rename one in its json tag (hint: see the type table in the codegen package documentation)"},
		{"map with a struct key", `type S interface{ M(ctx context.Context, m map[netip.Addr]int) error }`,
			"service.go:12:19: S.M: message MRequest: field M: map key type net/netip.Addr is not supported: want a string, bool or integer (hint: see the type table in the codegen package documentation)"},
		{"every problem in one run, in order", `type Opaque struct{ x int }
type S interface {
	A(ctx context.Context, o Opaque) error
	B(ctx context.Context, c chan int) error
	C(ctx context.Context, m map[netip.Addr]int) error
}`,
			"service.go:14:2: S.A: the request: bad.Opaque has no exported fields, so its message would carry nothing: export its fields, or give it MarshalText and UnmarshalText methods to send it as a string (hint: see the type table in the codegen package documentation)\n" +
				"service.go:15:2: S.B: parameter c is or holds a channel, which cannot cross the wire (hint: use a type that encodes to JSON and is exported or declared in this package)\n" +
				"service.go:16:2: S.C: message CRequest: field M: map key type net/netip.Addr is not supported: want a string, bool or integer (hint: see the type table in the codegen package documentation)"},
		{"embedded pointer to an unexported struct", `type base struct{ ID string }
type T struct {
	*base
	Name string
}
type S interface{ M(ctx context.Context, t T) error }`,
			"service.go:17:19: S.M: field base.ID of bad.T is promoted through the embedded pointer base to an unexported struct, which encoding/json cannot set; embed the struct by value or export its type"},
		{"enum values protobuf confuses", `type Level int
const LevelXLow Level = 1
type LevelX int
const Low LevelX = 1
type T struct {
	A Level
	B LevelX
}
type S interface{ M(ctx context.Context, t T) error }`,
			"service.go:18:2: S.M: message T: field B: the enum value LEVEL_X_LOW of LevelX has the protobuf name of enum value LEVEL_X_LOW of Level, and enum values share the package's scope in protobuf; rename a constant (hint: see the type table in the codegen package documentation)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := generateBad(t, head+tt.src+"\n")
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestGRPCAcceptsLosslessShapes checks shapes that are not errors: an
// empty struct (nothing to lose), JSON names that protoc could not take as
// they are, a type named like the service.
func TestGRPCAcceptsLosslessShapes(t *testing.T) {
	t.Parallel()
	const src = `package bad

import "context"

type Empty struct{}

// S is also the name of a message.
type S interface {
	Ping(ctx context.Context, e Empty) (Empty, error)
	Odd(ctx context.Context, o Odd) (S2, error)
}

type Odd struct {
	Dash   string ` + "`json:\"user-id\"`" + `
	Digit  int    ` + "`json:\"2fa\"`" + `
	Accent string ` + "`json:\"café\"`" + `
}

type S2 struct{ S S3 }
type S3 struct{ X int }
`
	files, errText := generateBad(t, src)
	require.Empty(t, errText)
	proto := string(files["s.proto"])
	assert.Contains(t, proto, "message Empty {\n}")
	assert.Contains(t, proto, "string user_id = 1;")
	assert.Contains(t, proto, "int64 _2fa = 2;")
	assert.Contains(t, proto, "string caf_ = 3;")
	protoc(t, "s.proto", files["s.proto"])
}

// Moving fields into an embedded struct keeps their numbers: the lock file
// knows them by their names, which encoding/json keeps.
func TestEmbeddingKeepsLockedNumbers(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs("testdata/bad")
	require.NoError(t, err)
	numbers := func(src string, lock *lockFile) map[string]int {
		svc, err := load(dir, "S", map[string][]byte{filepath.Join(dir, "service.go"): []byte(src)})
		require.NoError(t, err)
		pm, err := buildProto(svc, lock)
		require.NoError(t, err)
		out := map[string]int{}
		for _, m := range pm.Messages {
			if m.Name == "T" {
				for _, f := range m.Fields {
					out[f.Name] = f.Num
				}
			}
		}
		return out
	}
	lock := &lockFile{entries: map[string]map[string]int{}}
	before := numbers(`package bad

import "context"

type T struct {
	Name string `+"`json:\"name\"`"+`
	ID   string `+"`json:\"id\"`"+`
	Note string `+"`json:\"note\"`"+`
}

type S interface{ M(ctx context.Context, t T) error }
`, lock)
	assert.Equal(t, map[string]int{"name": 1, "id": 2, "note": 3}, before)
	after := numbers(`package bad

import "context"

type Base struct {
	ID string `+"`json:\"id\"`"+`
}

type Extra struct {
	Note string `+"`json:\"note\"`"+`
}

type T struct {
	Base
	*Extra
	Name string `+"`json:\"name\"`"+`
	Size int    `+"`json:\"size\"`"+`
}

type S interface{ M(ctx context.Context, t T) error }
`, lock)
	assert.Equal(t, map[string]int{"name": 1, "id": 2, "note": 3, "size": 4}, after)
}
