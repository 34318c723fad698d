package codegen

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const e2eService = `package notes

import (
	"context"
	"time"
)

// Note is a note.
type Note struct {
	ID      int64     ` + "`json:\"id\"`" + `
	Text    string    ` + "`json:\"text\"`" + `
	Tags    []string  ` + "`json:\"tags\"`" + `
	Created time.Time ` + "`json:\"created\"`" + `
}

// NewNote is the request of Create.
type NewNote struct {
	Text string   ` + "`json:\"text\"`" + `
	Tags []string ` + "`json:\"tags\"`" + `
}

// Notes keeps notes.
//
//GO:GENERATE go run github.com/typedkit/kit/codegen/cmd/kitgen -type Notes
type Notes interface {
	//kit:http POST /notes
	Create(ctx context.Context, n NewNote) (Note, error)
	//kit:http GET /notes/{id}
	Get(ctx context.Context, id int64) (*Note, error)
	//kit:http GET /notes
	Find(ctx context.Context, tag string, limit *int, ids []int64) ([]Note, error)
	//kit:http DELETE /notes/{id}
	Delete(ctx context.Context, id int64) error
	Stats(ctx context.Context) (count int, longest string, err error)
	//kit:http PATCH /notes/{id}/text
	Edit(ctx context.Context, id int64, text string) (Note, error)
	//kit:http GET /notes/{id}/check
	Check(ctx context.Context, id int64) (Check, error)
}

// Check is the result of Check: a business failure it carries is the
// call's error.
type Check struct {
	OK  bool  ` + "`json:\"ok\"`" + `
	err error
}

// Failed implements kit.Failer.
func (c Check) Failed() error { return c.err }
`

const e2eImpl = `package notes

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/typedkit/kit"
)

type store struct {
	mu    sync.Mutex
	notes map[int64]Note
	next  int64
}

// NewStore returns an empty in-memory Notes.
func NewStore() Notes { return &store{notes: map[int64]Note{}} }

func (s *store) Create(_ context.Context, n NewNote) (Note, error) {
	if n.Text == "" {
		return Note{}, kit.InvalidArgumentError("empty note", kit.FieldViolation{Field: "text", Description: "required"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	note := Note{ID: s.next, Text: n.Text, Tags: n.Tags, Created: time.Unix(1700000000, 0).UTC()}
	s.notes[note.ID] = note
	return note, nil
}

func (s *store) Get(_ context.Context, id int64) (*Note, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notes[id]
	if !ok {
		return nil, kit.NewError(kit.NotFound, "no note")
	}
	return &n, nil
}

func (s *store) Find(_ context.Context, tag string, limit *int, ids []int64) ([]Note, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for id := int64(1); id <= s.next; id++ {
		n, ok := s.notes[id]
		if !ok || (tag != "" && !slices.Contains(n.Tags, tag)) || (len(ids) > 0 && !slices.Contains(ids, id)) {
			continue
		}
		if limit != nil && len(out) == *limit {
			break
		}
		out = append(out, n)
	}
	return out, nil
}

func (s *store) Delete(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.notes[id]; !ok {
		return kit.NewError(kit.NotFound, "no note")
	}
	delete(s.notes, id)
	return nil
}

func (s *store) Stats(context.Context) (int, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	longest := ""
	for _, n := range s.notes {
		if len(n.Text) > len(longest) {
			longest = n.Text
		}
	}
	return len(s.notes), longest, nil
}

func (s *store) Edit(_ context.Context, id int64, text string) (Note, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notes[id]
	if !ok {
		return Note{}, kit.NewError(kit.NotFound, "no note")
	}
	n.Text = text
	s.notes[id] = n
	return n, nil
}

func (s *store) Check(_ context.Context, id int64) (Check, error) {
	if id < 0 {
		return Check{err: kit.NewError(kit.FailedPrecondition, "negative id")}, nil
	}
	return Check{OK: true}, nil
}
`

const e2eTest = `package notes

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/typedkit/kit"
)

func TestEveryMethodOverHTTP(t *testing.T) {
	// Serial: it builds and runs a module, CPU-bound work that running
	// beside the others would only slow down on a small machine.
	srv := httptest.NewServer(NewHTTPHandler(NewEndpoints(NewStore(), Middlewares{})))
	defer srv.Close()
	c, err := NewHTTPClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	a, err := c.Create(ctx, NewNote{Text: "first", Tags: []string{"x"}})
	if err != nil || a.ID != 1 || a.Created.Year() != 2023 {
		t.Fatalf("Create: %+v %v", a, err)
	}
	if _, err := c.Create(ctx, NewNote{Text: "second longer", Tags: []string{"y"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, NewNote{}); kit.CodeOf(err) != kit.InvalidArgument || len(kit.ViolationsOf(err)) != 1 {
		t.Fatalf("Create empty: %v", err)
	}
	got, err := c.Get(ctx, 1)
	if err != nil || got.Text != "first" {
		t.Fatalf("Get: %+v %v", got, err)
	}
	if _, err := c.Get(ctx, 99); kit.CodeOf(err) != kit.NotFound {
		t.Fatalf("Get missing: %v", err)
	}
	one := 1
	found, err := c.Find(ctx, "", &one, nil)
	if err != nil || len(found) != 1 || found[0].ID != 1 {
		t.Fatalf("Find limit: %+v %v", found, err)
	}
	found, err = c.Find(ctx, "y", nil, []int64{1, 2})
	if err != nil || len(found) != 1 || found[0].ID != 2 {
		t.Fatalf("Find tag: %+v %v", found, err)
	}
	n, longest, err := c.Stats(ctx)
	if err != nil || n != 2 || longest != "second longer" {
		t.Fatalf("Stats: %d %q %v", n, longest, err)
	}
	edited, err := c.Edit(ctx, 2, "edited")
	if err != nil || edited.Text != "edited" {
		t.Fatalf("Edit: %+v %v", edited, err)
	}
	if err := c.Delete(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, 1); kit.CodeOf(err) != kit.NotFound {
		t.Fatalf("Delete twice: %v", err)
	}
	if res, err := c.Check(ctx, 1); err != nil || !res.OK {
		t.Fatalf("Check: %+v %v", res, err)
	}
	// A failed response is the call's error, in process as over HTTP.
	for name, svc := range map[string]Notes{"http": c, "in process": NewEndpoints(NewStore(), Middlewares{})} {
		if _, err := svc.Check(ctx, -1); kit.CodeOf(err) != kit.FailedPrecondition || kit.MessageOf(err) != "negative id" {
			t.Fatalf("Check failing %s: %v", name, err)
		}
	}
}
`

// repoRoot returns the repository's root directory.
func repoRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Dir(filepath.Dir(file))
}

// TestEndToEnd generates a service's glue into a new module, then builds
// and runs that module's test, which serves the service on loopback and
// calls every method through the generated client.
func TestEndToEnd(t *testing.T) {
	// Serial: it builds and runs a module, CPU-bound work that running
	// beside the others would only slow down on a small machine.
	if testing.Short() {
		t.Skip("builds a module; run without -short")
	}
	root := repoRoot(t)
	mod := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	files := map[string]string{
		"go.mod":        "module example.com/notes\n\ngo 1.26.7\n\nrequire github.com/typedkit/kit v0.0.0\n\nreplace github.com/typedkit/kit => " + root + "\n",
		"go.sum":        string(sum),
		"service.go":    e2eService,
		"store.go":      e2eImpl,
		"notes_test.go": e2eTest,
	}
	for name, content := range files {
		// The directive is spelled in capitals above, so that go generate
		// does not take it for one of this package's own.
		content = strings.ReplaceAll(content, "//GO:GENERATE", "//go:generate")
		require.NoError(t, os.WriteFile(filepath.Join(mod, name), []byte(content), 0o644))
	}
	run := func(args ...string) string {
		cmd := exec.Command("go", args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	written, err := Write(Options{Dir: mod, Type: "Notes", HTTP: true})
	require.NoError(t, err)
	require.Len(t, written, 3) // endpoints, HTTP, OpenAPI
	run("vet", "./...")
	out := run("test", "-count=1", "./...")
	require.Contains(t, out, "ok")

	// go generate through the directive in service.go gives the same files.
	before, err := os.ReadFile(written[1])
	require.NoError(t, err)
	run("generate", "./...")
	after, err := os.ReadFile(written[1])
	require.NoError(t, err)
	require.Equal(t, string(before), string(after))
}
