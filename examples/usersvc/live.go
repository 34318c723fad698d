package usersvc

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
)

// livePage is the page ServeLivePage serves.
//
//go:embed live.html
var livePage []byte

// liveCSP is the page's Content-Security-Policy: nothing but its own
// script, known by its hash, and connections to this origin.
var liveCSP = func() string {
	_, rest, _ := bytes.Cut(livePage, []byte("<script>"))
	script, _, _ := bytes.Cut(rest, []byte("</script>"))
	sum := sha256.Sum256(script)
	return "default-src 'none'; style-src 'unsafe-inline'; connect-src 'self'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// ServeLivePage serves a page that lists the changes to users as they
// happen: it opens GET /users/watch with the browser's EventSource and
// adds each change it receives to a table.
func ServeLivePage(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", liveCSP)
	_, _ = w.Write(livePage)
}
