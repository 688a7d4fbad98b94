package reconcile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxResponse bounds a provider API response read into memory.
const maxResponse = 32 << 20

// Client calls a provider API, honouring rate limits: a 429 waits for its
// Retry-After (or a backoff when absent), and 408, 5xx and connection
// errors are retried with exponential backoff, up to Attempts tries.
type Client struct {
	HTTP *http.Client
	// Auth sets the request's credentials.
	Auth func(r *http.Request)
	// Attempts per request; default 6.
	Attempts int
	// Backoff is the first retry delay, doubling up to MaxBackoff;
	// defaults 1s and 1m.
	Backoff, MaxBackoff time.Duration
	// Sleep waits d or until ctx ends; tests replace it to record waits.
	Sleep func(ctx context.Context, d time.Duration) error
}

// APIError is a provider answer that is not retried (or ran out of tries).
type APIError struct {
	Method, URL string
	Status      int
	Detail      string // start of the response body, for the run's last error
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, e.Detail)
}

// Response is a successful answer.
type Response struct {
	Header http.Header
	Body   []byte
}

// Do sends the request until it succeeds (2xx), fails permanently, or
// runs out of attempts.
func (c *Client) Do(ctx context.Context, method, url string, header http.Header, body []byte) (*Response, error) {
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = 6
	}
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = time.Second
	}
	maxBackoff := c.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = time.Minute
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	var last error
	for n := 1; ; n++ {
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "hookyard-reconcile")
		if c.Auth != nil {
			c.Auth(req)
		}
		wait := backoff
		resp, err := hc.Do(req)
		if err == nil {
			b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
			resp.Body.Close()
			switch {
			case rerr != nil:
				last = fmt.Errorf("%s %s: read response: %w", method, redact(url), rerr)
			case len(b) > maxResponse:
				return nil, fmt.Errorf("%s %s: response larger than %d bytes", method, redact(url), maxResponse)
			case resp.StatusCode >= 200 && resp.StatusCode < 300:
				return &Response{Header: resp.Header, Body: b}, nil
			default:
				last = &APIError{Method: method, URL: redact(url), Status: resp.StatusCode, Detail: snippet(b)}
				if !retryable(resp.StatusCode) {
					return nil, last
				}
				if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
					wait = d
				}
			}
		} else {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = fmt.Errorf("%s %s: %w", method, redact(url), err)
		}
		if n >= attempts {
			return nil, fmt.Errorf("after %d attempts: %w", n, last)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
}

// maxRetryAfter caps a provider's Retry-After, so a bogus value cannot
// park a run for a day.
const maxRetryAfter = 10 * time.Minute

// retryAfter parses Retry-After: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return min(time.Duration(s*float64(time.Second)), maxRetryAfter), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

// snippet is the start of an error body, on one line.
func snippet(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(bytes.Join(bytes.Fields(b), []byte(" ")))
}

// redact drops a URL's query string, which may carry credentials
// (WooCommerce accepts consumer_key in the query) or cursors too long to
// be useful in an error.
func redact(u string) string {
	if i := bytes.IndexByte([]byte(u), '?'); i >= 0 {
		return u[:i]
	}
	return u
}
