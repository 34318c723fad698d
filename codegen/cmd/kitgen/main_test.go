package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const idl = `package greeter

import "context"

// Greeter greets.
type Greeter interface {
	//kit:http GET /hello/{name}
	Hello(ctx context.Context, name string) (string, error)
	//kit:security bearer
	Forget(ctx context.Context, name string) error
}
`

func TestFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "idl.go")
	require.NoError(t, os.WriteFile(path, []byte(idl), 0o644))
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr, or in the written go:generate line
	}{
		{"bad server", []string{"-type", "Greeter", "-openapi-server", "api.example.org"}, 2,
			`invalid value "api.example.org" for flag -openapi-server: server "api.example.org": want an absolute URL`},
		{"bad security", []string{"-type", "Greeter", "-security", "oauth"}, 2, `unknown security scheme "oauth": want basic, bearer or none`},
		{"new passes the OpenAPI flags on", []string{"new", "-idl", path, "-out", filepath.Join(dir, "out"), "-import", "example.com/greeter",
			"-service", "Greeter", "-openapi-server", "https://api.example.org production", "-openapi-license", "MIT",
			"-openapi-contact", "Ada <ada@example.org>", "-security", "basic", "-q"}, 0,
			`//go:generate go tool kitgen -type Greeter -transports http -openapi-server "https://api.example.org production" -openapi-license MIT -openapi-contact "Ada <ada@example.org>" -security basic`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			assert.Equal(t, tt.code, code, "%s", stderr.String())
			if code != 0 {
				assert.Contains(t, stderr.String(), tt.want)
				return
			}
			src, err := os.ReadFile(filepath.Join(dir, "out", "greeter", "service.go"))
			require.NoError(t, err)
			assert.Contains(t, string(src), tt.want+"\n")
			doc, err := os.ReadFile(filepath.Join(dir, "out", "greeter", "greeter.openapi.json"))
			require.NoError(t, err)
			for _, s := range []string{`"url": "https://api.example.org"`, `"identifier": "MIT"`, `"email": "ada@example.org"`, `"basic": {`} {
				assert.True(t, strings.Contains(string(doc), s), "the document has %s", s)
			}
		})
	}
}
