package console

import (
	"bytes"
	"io"
	"net/http"

	"github.com/hookyard/hookyard/internal/api"
)

// client returns an admin API client that calls the API handler in this
// process with token: no socket, same authentication, roles and masking.
func (c *Console) client(token string) *api.Client {
	return &api.Client{BaseURL: "http://console.local", Token: token, HTTP: &http.Client{Transport: inproc{c.api}}}
}

// remoteKey carries the browser's address to the in-process API request.
type remoteKey struct{}

// inproc is an http.RoundTripper that serves a request with a handler.
type inproc struct{ h http.Handler }

func (t inproc) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	req.RemoteAddr, _ = req.Context().Value(remoteKey{}).(string)
	if req.Body == nil {
		req.Body = http.NoBody
	}
	t.h.ServeHTTP(rec, req)
	return &http.Response{StatusCode: rec.status, Status: http.StatusText(rec.status), Header: rec.header,
		Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: req,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// recorder is the minimal http.ResponseWriter the API handler needs.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
