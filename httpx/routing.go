package httpx

import (
	"net/http"

	"github.com/typedkit/kit"
)

// RouteProblems returns a handler that serves mux and answers the requests
// mux itself would refuse — no route (404) or a route without the method
// (405, with its Allow header) — with a [Problem] body like every other
// error, instead of ServeMux's plain text. Redirects of ServeMux (a path
// without its trailing slash, an unclean path) are served as they are.
func RouteProblems(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &routeRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		var err error
		switch rec.status {
		case http.StatusNotFound:
			err = kit.NewError(kit.NotFound, "no route for "+r.Method+" "+r.URL.Path)
		case http.StatusMethodNotAllowed:
			if allow := rec.header.Values("Allow"); len(allow) > 0 {
				w.Header()["Allow"] = allow
			}
			err = &StatusError{Status: http.StatusMethodNotAllowed,
				Err: kit.NewError(kit.Unimplemented, "method "+r.Method+" not allowed for "+r.URL.Path)}
		default:
			mux.ServeHTTP(w, r)
			return
		}
		DefaultErrorEncoder(r.Context(), err, w)
	})
}

// routeRecorder records what ServeMux's own refusal would write.
type routeRecorder struct {
	header http.Header
	status int
}

func (r *routeRecorder) Header() http.Header { return r.header }

func (r *routeRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *routeRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(p), nil
}
