package api

import (
	"bytes"
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3.1 description of this API. TestOpenAPISync
// checks it against the routes New registers: every route documented with
// the role it needs, nothing documented that is not served.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3.1 document of the admin API (JSON).
func OpenAPI() []byte { return bytes.Clone(openAPIDoc) }

// GET /api/v1/openapi.json
func (s *server) openAPI(w http.ResponseWriter, _ *http.Request, _ who) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(openAPIDoc)
	return nil
}
