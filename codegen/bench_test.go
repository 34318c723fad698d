package codegen

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// bench20 is an interface of 20 methods of the usual shapes.
func bench20() string {
	var b strings.Builder
	b.WriteString(`package bad

import (
	"context"
	"time"
)

// Item is an item.
type Item struct {
	ID      string            ` + "`json:\"id\"`" + `
	Name    string            ` + "`json:\"name\"`" + `
	Tags    []string          ` + "`json:\"tags\"`" + `
	Labels  map[string]string ` + "`json:\"labels\"`" + `
	Created time.Time         ` + "`json:\"created\"`" + `
	Parent  *Item             ` + "`json:\"parent\"`" + `
}

// S has 20 methods.
type S interface {
`)
	for i := range 20 {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "\t//kit:http GET /items%d/{id}\n\tGet%d(ctx context.Context, id string) (Item, error)\n", i, i)
		case 1:
			fmt.Fprintf(&b, "\t//kit:http POST /items%d\n\tCreate%d(ctx context.Context, item Item) (Item, error)\n", i, i)
		case 2:
			fmt.Fprintf(&b, "\t//kit:http GET /items%d\n\tList%d(ctx context.Context, tag string, limit *int) ([]Item, string, error)\n", i, i)
		default:
			fmt.Fprintf(&b, "\tDelete%d(ctx context.Context, id string, at time.Time) error\n", i)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// BenchmarkGenerate measures the generation of every file (endpoints,
// HTTP, OpenAPI, gRPC, .proto) for an interface of 20 methods: with the
// loading and type-checking of its package (what a kitgen run costs), and
// from the loaded model.
func BenchmarkGenerate(b *testing.B) {
	dir, err := filepath.Abs("testdata/bad")
	if err != nil {
		b.Fatal(err)
	}
	overlay := map[string][]byte{filepath.Join(dir, "service.go"): []byte(bench20())}
	opts := Options{Dir: b.TempDir(), Type: "S", HTTP: true, GRPC: true}
	b.Run("load+generate", func(b *testing.B) {
		for b.Loop() {
			svc, err := load(dir, "S", overlay)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := generate(svc, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generate", func(b *testing.B) {
		svc, err := load(dir, "S", overlay)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := generate(svc, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
}
