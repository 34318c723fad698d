package failer_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/typedkit/kit/internal/failer"
)

type failing struct{ err error }

func (f failing) Failed() error { return f.err }

type failingPtr struct{ err error }

func (f *failingPtr) Failed() error { return f.err }

type plain struct{}

func TestFunc(t *testing.T) {
	t.Parallel()
	boom := errors.New("no")
	assert.Equal(t, boom, failer.Func[failing]()(failing{boom}))
	assert.Equal(t, boom, failer.Func[*failingPtr]()(&failingPtr{boom}))
	assert.NoError(t, failer.Func[plain]()(plain{}))
	assert.Equal(t, boom, failer.Func[interface{ Failed() error }]()(failing{boom}), "interface types are checked per value")
	assert.NoError(t, failer.Func[any]()(nil))
	assert.NoError(t, failer.Func[any]()(plain{}))
}
