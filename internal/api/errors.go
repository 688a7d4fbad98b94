package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/hookyard/hookyard/internal/webhook"
)

// Errors the API itself raises, beside the webhook sentinels.
var (
	errConflict         = errors.New("conflict")
	errMethodNotAllowed = errors.New("method not allowed")
)

// statusOf is the one place an error becomes an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, webhook.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, webhook.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, webhook.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, webhook.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, webhook.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errConflict):
		return http.StatusConflict
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, webhook.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// invalid returns an ErrInvalid naming the parameter or field at fault.
func invalid(param, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", webhook.ErrInvalid, param, fmt.Sprintf(format, args...))
}

// writeError answers err as application/problem+json. Client errors carry
// the error text as detail (it names the parameter and never holds a body or
// token); server errors are logged and answered without internals.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	detail := err.Error()
	switch {
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookyard"`)
	case status >= 500:
		s.log.Error("admin API request failed", "method", r.Method, "path", r.URL.Path,
			"status", status, "error", err.Error())
		detail = "the request could not be completed; see the server log"
		if status == http.StatusServiceUnavailable {
			detail = "storage is unavailable; retry later"
		}
	}
	writeProblem(w, status, detail)
}

func writeProblem(w http.ResponseWriter, status int, detail string) {
	b, _ := json.Marshal(Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeJSON encodes v fully before writing, so an encoding failure can still
// become a problem answer instead of a truncated body.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // bodies are shown as sent
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	return nil
}
