package codegen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonShapesDir is the golden service of the JSON codecs: every shape they
// handle, and those they leave to encoding/json.
const jsonShapesDir = "testdata/src/jsonshapes"

// TestJSONGolden checks the generated codecs of the golden service
// jsonshapes against the committed files (go test ./codegen -run
// TestJSONGolden -update rewrites them), and that generating again gives
// the same bytes.
func TestJSONGolden(t *testing.T) {
	t.Parallel()
	opts := Options{Dir: jsonShapesDir, Type: "Shapes", HTTP: true}
	files, err := Generate(opts)
	require.NoError(t, err)
	for name, got := range files {
		path := filepath.Join(jsonShapesDir, name)
		if *update {
			require.NoError(t, os.WriteFile(path, got, 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./codegen -run TestJSONGolden -update to create it")
		assert.Equal(t, string(want), string(got), "%s is stale: run go test ./codegen -update", path)
	}
	again, err := Generate(opts)
	require.NoError(t, err)
	assert.Equal(t, files, again)
}
