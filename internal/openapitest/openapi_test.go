package openapitest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit/codegen"
	"github.com/typedkit/kit/examples/usersvc"
)

const docPath = "../../examples/usersvc/user_service.openapi.json"

func newValidator(t *testing.T) (validator.Validator, []byte) {
	t.Helper()
	spec, err := os.ReadFile(docPath)
	require.NoError(t, err)
	doc, err := libopenapi.NewDocument(spec)
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	return v, spec
}

// The document is a valid OpenAPI 3.1 document, and the handler serves
// the same bytes at GET /openapi.json.
func TestDocumentIsValid(t *testing.T) {
	v, spec := newValidator(t)
	ok, errs := v.ValidateDocument()
	for _, e := range errs {
		t.Errorf("%s: %s", e.Message, e.Reason)
	}
	assert.True(t, ok)

	srv := httptest.NewServer(usersvc.NewHTTPHandler(usersvc.NewEndpoints(usersvc.NewStore(), usersvc.Middlewares{})))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	served, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, string(spec), string(served))
}

// Every route the handler registers is in the document, and every
// operation in the document is served.
func TestRoutesMatchDocument(t *testing.T) {
	svc, err := codegen.Load("../../examples/usersvc", "UserService")
	require.NoError(t, err)
	v, spec := newValidator(t)
	_ = v
	doc, err := libopenapi.NewDocument(spec)
	require.NoError(t, err)
	model, err := doc.BuildV3Model()
	require.NoError(t, err)

	documented := map[string]bool{}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	registered := map[string]bool{}
	for _, m := range svc.Methods {
		registered[m.Route.Pattern()] = true
	}
	assert.Equal(t, registered, documented)

	srv := httptest.NewServer(usersvc.NewHTTPHandler(usersvc.NewEndpoints(usersvc.NewStore(), usersvc.Middlewares{})))
	defer srv.Close()
	for route := range documented {
		method, path, _ := strings.Cut(route, " ")
		req, err := http.NewRequest(method, srv.URL+strings.ReplaceAll(path, "{id}", "u1"), nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.NotEqual(t, http.StatusMethodNotAllowed, resp.StatusCode, route)
		if resp.StatusCode == http.StatusNotFound {
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "%s is served (a 404 from the service, not the mux)", route)
		}
	}
}

// Real responses, successes and errors, validate against the document.
func TestResponsesMatchSchemas(t *testing.T) {
	v, _ := newValidator(t)
	srv := httptest.NewServer(usersvc.NewHTTPHandler(usersvc.NewEndpoints(usersvc.NewStore(), usersvc.Middlewares{})))
	defer srv.Close()
	calls := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/users", `{"name":"Ada","email":"ada@example.com"}`, 200},
		{"POST", "/users", `{"name":"","email":"x"}`, 400},
		{"GET", "/users/u000001", "", 200},
		{"GET", "/users/nope", "", 404},
		{"GET", "/users?pageSize=5", "", 200},
		{"GET", "/users?pageSize=x", "", 400},
		{"PUT", "/users/u000001", `{"name":"Ada L","email":"ada@example.com"}`, 200},
		{"DELETE", "/users/u000001", "", 200},
		{"GET", "/users", "", 200},
	}
	for _, c := range calls {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
			require.NoError(t, err)
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, c.status, resp.StatusCode, "%s", body)
			resp.Body = io.NopCloser(bytes.NewReader(body))

			check, _ := http.NewRequest(c.method, "http://localhost"+c.path, strings.NewReader(c.body))
			if c.body != "" {
				check.Header.Set("Content-Type", "application/json")
			}
			ok, errs := v.ValidateHttpResponse(check, resp)
			for _, e := range errs {
				t.Errorf("%s: %s (%v)", e.Message, e.Reason, e.SchemaValidationErrors)
			}
			assert.True(t, ok, "%s", body)

			// The request is one the document allows, unless it is the
			// malformed query.
			check, _ = http.NewRequest(c.method, "http://localhost"+c.path, strings.NewReader(c.body))
			if c.body != "" {
				check.Header.Set("Content-Type", "application/json")
			}
			if c.method != "GET" {
				check.Header.Set("Authorization", "Bearer token") // the write methods declare bearer security
			}
			ok, errs = v.ValidateHttpRequest(check)
			if strings.Contains(c.path, "pageSize=x") {
				assert.False(t, ok, "the document forbids a pageSize that is not an integer")
				return
			}
			for _, e := range errs {
				t.Errorf("request: %s: %s (%v)", e.Message, e.Reason, e.SchemaValidationErrors)
			}
			assert.True(t, ok)
		})
	}
}
