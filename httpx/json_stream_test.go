package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
)

// bigItem is an element of a response list.
type bigItem struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	// Fail makes the item's encoding fail.
	Fail bool `json:"-"`
}

var errItem = errors.New("item refuses to be encoded: secret internal detail")

type failingItem bigItem

func (i failingItem) MarshalJSON() ([]byte, error) {
	if i.Fail {
		return nil, errItem
	}
	return json.Marshal(bigItem(i))
}

// bigList is a list of about size bytes of JSON.
func bigList(size int) []failingItem {
	items := []failingItem{}
	for n := 0; n < size; n += 40 {
		items = append(items, failingItem{ID: n, Name: strings.Repeat("n", 20)})
	}
	return items
}

// listServer serves GET /?size=N&fail=1 with a list of about N bytes of
// JSON, whose last item fails to encode when fail is set, encoded by enc.
func listServer(t *testing.T, enc EncodeResponseFunc[[]failingItem]) *httptest.Server {
	t.Helper()
	type req struct {
		size int
		fail bool
	}
	srv := httptest.NewServer(NewServer(kit.Endpoint[req, []failingItem](func(_ context.Context, r req) ([]failingItem, error) {
		items := bigList(r.size)
		if r.fail {
			items[len(items)-1].Fail = true
		}
		return items, nil
	}), func(_ context.Context, r *http.Request) (req, error) {
		n, err := strconv.Atoi(r.URL.Query().Get("size"))
		return req{size: n, fail: r.URL.Query().Get("fail") != ""}, err
	}, enc, ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {}))))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// Bodies below and above the threshold arrive whole and equal to what
// encoding/json writes, from many concurrent requests (run it with -race):
// the small ones kept and written at once, the large ones streamed.
func TestEncodeJSONResponseLargeBodies(t *testing.T) {
	t.Parallel()
	srv := listServer(t, EncodeJSONResponse[[]failingItem])
	sizes := []int{0, 100, 10 << 10, jsonStreamThreshold - 100, jsonStreamThreshold + 100, 1 << 20}
	var wg sync.WaitGroup
	for range 4 {
		for _, size := range sizes {
			wg.Go(func() {
				resp, body, err := get(t, fmt.Sprintf("%s/?size=%d", srv.URL, size))
				if !assert.NoError(t, err, "size %d", size) {
					return
				}
				want, _ := json.Marshal(bigList(size))
				assert.Equal(t, http.StatusOK, resp.StatusCode, "size %d", size)
				assert.Equal(t, JSONContentType, resp.Header.Get("Content-Type"), "size %d", size)
				assert.Equal(t, string(want)+"\n", string(body), "size %d", size)
			})
		}
	}
	wg.Wait()
}

// A body that fails to encode is never seen as a success: encoding/json
// fails before it writes, so the error is answered with its status, 500,
// without the internal text.
func TestEncodeJSONResponseFailure(t *testing.T) {
	t.Parallel()
	srv := listServer(t, EncodeJSONResponse[[]failingItem])
	for _, size := range []int{100, 1 << 20} {
		resp, body, err := get(t, fmt.Sprintf("%s/?size=%d&fail=1", srv.URL, size))
		if err == nil {
			assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "size %d", size)
			assert.Equal(t, ProblemContentType, resp.Header.Get("Content-Type"))
			assert.NotContains(t, string(body), "secret")
		}
	}
}

// A body that fails after its first byte was written aborts the response:
// the client gets the status line but cannot read a complete body.
func TestEncodeJSONResponseFailsAfterFirstByte(t *testing.T) {
	t.Parallel()
	chunk := []byte(strings.Repeat(" ", 32<<10))
	srv := listServer(t, func(_ context.Context, w http.ResponseWriter, _ []failingItem) error {
		return encodeJSONBody(w, func(jw *jsonWriter) error {
			for range 4 {
				if _, err := jw.Write(chunk); err != nil {
					return err
				}
			}
			return errItem
		})
	})
	resp, body, err := get(t, srv.URL+"/?size=1")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the status went out with the first byte")
	require.Error(t, err, "the body breaks off")
	assert.LessOrEqual(t, len(body), 4*len(chunk))
	assert.NotContains(t, string(body), "secret")

	// The pooled writers work on for the next responses.
	resp, body, err = get(t, srv.URL+"/?size=1")
	require.Error(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_ = body
}

// failingWriter is a ResponseWriter whose client went away.
type failingWriter struct{ header http.Header }

func (w *failingWriter) Header() http.Header       { return w.header }
func (w *failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }
func (w *failingWriter) WriteHeader(int)           {}

// A write that fails, small or large, is returned, and leaves no broken
// encoder in the pool: a json.Encoder repeats a writer's error forever.
func TestEncodeJSONResponseWriteError(t *testing.T) {
	for _, size := range []int{100, 1 << 20} {
		err := EncodeJSONResponse(context.Background(), &failingWriter{header: http.Header{}}, bigList(size))
		require.ErrorIs(t, err, io.ErrClosedPipe, "size %d", size)
		for range 4 {
			w := httptest.NewRecorder()
			require.NoError(t, EncodeJSONResponse(context.Background(), w, bigList(size)), "size %d", size)
			want, _ := json.Marshal(bigList(size))
			assert.Equal(t, string(want)+"\n", w.Body.String())
		}
	}
}
