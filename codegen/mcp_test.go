package codegen

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refs returns every $ref in a decoded JSON Schema.
func refs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = append(out, refs(e)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, refs(e)...)
		}
	}
	return out
}

// The tool schemas of every method of the golden services are objects and
// self-contained: each reference names an entry of their own $defs, so a
// client resolves them without the OpenAPI document.
func TestMCPSchemasAreSelfContained(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases {
		t.Run(c.typ, func(t *testing.T) {
			t.Parallel()
			svc, err := Load(c.dir, c.typ)
			require.NoError(t, err)
			tools, err := mcpTools(svc)
			require.NoError(t, err)
			require.NotEmpty(t, tools)
			for _, tool := range tools {
				for which, lit := range map[string]string{"input": tool.Input, "output": tool.Output} {
					src := strings.Trim(lit, "`")
					var schema map[string]any
					require.NoError(t, json.Unmarshal([]byte(src), &schema), "%s %s: %s", tool.Method.Name, which, src)
					assert.Equal(t, "object", schema["type"], "%s %s schema is an object", tool.Method.Name, which)
					defs, _ := schema["$defs"].(map[string]any)
					for _, r := range refs(schema) {
						name, ok := strings.CutPrefix(r, "#/$defs/")
						require.True(t, ok, "%s %s: reference %s outside the schema", tool.Method.Name, which, r)
						assert.Contains(t, defs, name, "%s %s: %s is defined", tool.Method.Name, which, r)
					}
				}
				if tool.Wrapped {
					assert.Contains(t, tool.Output, `"result"`)
				}
			}
		})
	}
}

func TestMCPAnnotation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantErr string
	}{
		{args: []string{"skip"}},
		{args: []string{"readonly"}},
		{args: []string{"destructive"}},
		{args: []string{"nondestructive"}},
		{args: nil, wantErr: "want one of skip, readonly, destructive, nondestructive"},
		{args: []string{"readonly", "skip"}, wantErr: "want one of"},
		{args: []string{"safe"}, wantErr: `unknown hint "safe"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			_, err := parseMCP(tt.args)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}
