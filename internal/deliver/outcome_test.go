package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// timeoutError is a net.Error that reports a timeout without wrapping
// context.DeadlineExceeded, like a dialer's or TLS handshake's.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		header     http.Header
		class      string // "" means success
		permanent  bool
		disable    bool
		retryAfter time.Duration
		errText    string // substring of Outcome.Err; checked when class != ""
	}{
		{name: "200", code: 200},
		{name: "201", code: 201},
		{name: "204", code: 204},
		{name: "299", code: 299},
		{name: "non-HTTP success", code: 0},
		{name: "2xx ignores Retry-After", code: 200, header: hdr("Retry-After", "60")},

		{name: "301", code: 301, class: webhook.ClassHTTP3xx, permanent: true, errText: "HTTP 301 Moved Permanently: redirects are not followed"},
		{name: "302 names Location", code: 302, header: hdr("Location", "https://elsewhere.example/x"), class: webhook.ClassHTTP3xx, permanent: true, errText: "(Location: https://elsewhere.example/x)"},
		{name: "304", code: 304, class: webhook.ClassHTTP3xx, permanent: true, errText: "HTTP 304"},
		{name: "308", code: 308, class: webhook.ClassHTTP3xx, permanent: true, errText: "HTTP 308"},
		{name: "399", code: 399, class: webhook.ClassHTTP3xx, permanent: true, errText: "HTTP 399"},

		{name: "400", code: 400, class: webhook.ClassHTTP4xx, permanent: true, errText: "HTTP 400 Bad Request"},
		{name: "401", code: 401, class: webhook.ClassHTTP4xx, permanent: true, errText: "HTTP 401"},
		{name: "403", code: 403, class: webhook.ClassHTTP4xx, permanent: true, errText: "HTTP 403"},
		{name: "404", code: 404, class: webhook.ClassHTTP4xx, permanent: true, errText: "HTTP 404 Not Found"},
		{name: "422", code: 422, class: webhook.ClassHTTP4xx, permanent: true, errText: "HTTP 422"},
		{name: "499", code: 499, class: webhook.ClassHTTP4xx, permanent: true, errText: "HTTP 499"},
		{name: "permanent ignores Retry-After", code: 400, header: hdr("Retry-After", "60"), class: webhook.ClassHTTP4xx, permanent: true, errText: "HTTP 400"},
		{name: "410 disables", code: 410, header: hdr("Retry-After", "60"), class: webhook.ClassHTTP4xx, permanent: true, disable: true, errText: "HTTP 410 Gone"},

		{name: "408 retries", code: 408, class: webhook.ClassHTTP4xx, errText: "HTTP 408 Request Timeout"},
		{name: "425 retries", code: 425, class: webhook.ClassHTTP4xx, errText: "HTTP 425 Too Early"},
		{name: "429 retries", code: 429, class: webhook.ClassHTTP429, errText: "HTTP 429 Too Many Requests"},
		{name: "429 Retry-After seconds", code: 429, header: hdr("Retry-After", "120"), class: webhook.ClassHTTP429, retryAfter: 2 * time.Minute, errText: "HTTP 429"},
		{name: "408 Retry-After", code: 408, header: hdr("Retry-After", "7"), class: webhook.ClassHTTP4xx, retryAfter: 7 * time.Second, errText: "HTTP 408"},
		{name: "500", code: 500, class: webhook.ClassHTTP5xx, errText: "HTTP 500 Internal Server Error"},
		{name: "502", code: 502, class: webhook.ClassHTTP5xx, errText: "HTTP 502"},
		{name: "503 Retry-After date", code: 503, header: hdr("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), class: webhook.ClassHTTP5xx, retryAfter: 90 * time.Second, errText: "HTTP 503"},
		{name: "503 Retry-After too long", code: 503, header: hdr("Retry-After", "604800"), class: webhook.ClassHTTP5xx, retryAfter: MaxRetryAfter, errText: "HTTP 503"},
		{name: "503 Retry-After garbage", code: 503, header: hdr("Retry-After", "soon"), class: webhook.ClassHTTP5xx, errText: "HTTP 503"},
		{name: "599", code: 599, class: webhook.ClassHTTP5xx, errText: "HTTP 599"},
		{name: "above 599 retries as 5xx", code: 600, class: webhook.ClassHTTP5xx, errText: "HTTP 600"},
		{name: "1xx retries as 5xx", code: 102, class: webhook.ClassHTTP5xx, errText: "HTTP 102"},
		{name: "nil header", code: 503, header: nil, class: webhook.ClassHTTP5xx, errText: "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Classify(tt.code, tt.header, nil, now)
			if o.StatusCode != tt.code {
				t.Errorf("StatusCode = %d, want %d", o.StatusCode, tt.code)
			}
			if o.Class != tt.class || o.Permanent != tt.permanent || o.DisableDestination != tt.disable || o.RetryAfter != tt.retryAfter {
				t.Errorf("Classify(%d) = {Class:%q Permanent:%v Disable:%v RetryAfter:%v}, want {%q %v %v %v}",
					tt.code, o.Class, o.Permanent, o.DisableDestination, o.RetryAfter, tt.class, tt.permanent, tt.disable, tt.retryAfter)
			}
			if o.OK() != (tt.class == "") {
				t.Errorf("OK() = %v, Err = %v", o.OK(), o.Err)
			}
			if tt.class != "" && (o.Err == nil || !strings.Contains(o.Err.Error(), tt.errText)) {
				t.Errorf("Err = %v, want it to contain %q", o.Err, tt.errText)
			}
		})
	}
}

func TestClassifyError(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	deadline := &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}
	ssrf := &url.Error{Op: "Post", URL: "http://10.0.0.1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &Error{Err: errors.New("address 10.0.0.1 is private"), Permanent: true, Class: webhook.ClassSSRFBlocked}}}

	tests := []struct {
		name       string
		code       int
		err        error
		class      string
		permanent  bool
		retryAfter time.Duration
	}{
		{name: "context deadline", err: context.DeadlineExceeded, class: webhook.ClassTimeout},
		{name: "client deadline wrapped in url.Error", err: deadline, class: webhook.ClassTimeout},
		{name: "net.Error timeout", err: &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}, class: webhook.ClassTimeout},
		{name: "os deadline", err: fmt.Errorf("read: %w", os.ErrDeadlineExceeded), class: webhook.ClassTimeout},
		{name: "connection refused", err: refused, class: webhook.ClassConnection},
		{name: "unexpected EOF", err: io.ErrUnexpectedEOF, class: webhook.ClassConnection},
		{name: "cancelled", err: context.Canceled, class: webhook.ClassConnection},
		{name: "plain error", err: errors.New("disk full"), class: webhook.ClassConnection},
		{name: "error wins over status", code: 200, err: io.EOF, class: webhook.ClassConnection},

		{name: "Permanent", err: Permanent(errors.New("bad config")), class: webhook.ClassConnection, permanent: true},
		{name: "Permanent wrapped", err: fmt.Errorf("send: %w", Permanent(io.EOF)), class: webhook.ClassConnection, permanent: true},
		{name: "Permanent timeout keeps class", err: Permanent(context.DeadlineExceeded), class: webhook.ClassTimeout, permanent: true},
		{name: "Permanent nil", err: Permanent(nil), class: webhook.ClassConnection, permanent: true},
		{name: "RetryAfter", err: RetryAfter(30*time.Second, errors.New("busy")), class: webhook.ClassConnection, retryAfter: 30 * time.Second},
		{name: "RetryAfter clamped high", err: RetryAfter(48*time.Hour, errors.New("busy")), class: webhook.ClassConnection, retryAfter: MaxRetryAfter},
		{name: "RetryAfter clamped low", err: RetryAfter(-time.Second, errors.New("busy")), class: webhook.ClassConnection},
		{name: "Error with class deep in a transport error", err: ssrf, class: webhook.ClassSSRFBlocked, permanent: true},
		{name: "Error permanent ignores RetryAfter", err: &Error{Err: io.EOF, Permanent: true, RetryAfter: time.Hour}, class: webhook.ClassConnection, permanent: true},
		{name: "Error with class, retry", err: &Error{Err: io.EOF, Class: webhook.ClassTransform}, class: webhook.ClassTransform},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Classify(tt.code, hdr("Retry-After", "60"), tt.err, now)
			if o.StatusCode != tt.code {
				t.Errorf("StatusCode = %d, want %d", o.StatusCode, tt.code)
			}
			if o.Class != tt.class || o.Permanent != tt.permanent || o.RetryAfter != tt.retryAfter || o.DisableDestination {
				t.Errorf("Classify(%v) = {Class:%q Permanent:%v RetryAfter:%v Disable:%v}, want {%q %v %v false}",
					tt.err, o.Class, o.Permanent, o.RetryAfter, o.DisableDestination, tt.class, tt.permanent, tt.retryAfter)
			}
			if o.OK() || o.Err != tt.err {
				t.Errorf("Err = %v, want the error unchanged", o.Err)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"120", 2 * time.Minute},
		{" 120 ", 2 * time.Minute},
		{"86400", 24 * time.Hour},
		{"86401", MaxRetryAfter},
		{"99999999999999999999999", MaxRetryAfter},
		{"-5", 0},
		{"+5", 0},
		{"1.5", 0},
		{"5s", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(time.Hour).Format(time.RFC850), time.Hour},
		{now.Add(time.Hour).Format(time.ANSIC), time.Hour},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(72 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
		{"Sat, 14 Mar 2026 15:09:26", 0}, // no zone: not an HTTP-date
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.v, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestOutcomeErrors(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name      string
		err       error
		text      string
		permanent bool
	}{
		{"Permanent", Permanent(base), "permanent: boom", true},
		{"Permanent nil", Permanent(nil), "permanent: delivery failed", true},
		{"Permanent wrapped", fmt.Errorf("file: %w", Permanent(base)), "file: permanent: boom", true},
		{"RetryAfter", RetryAfter(time.Minute, base), "retry after 1m0s: boom", false},
		{"RetryAfter nil", RetryAfter(time.Minute, nil), "retry after 1m0s: delivery failed", false},
		{"Error plain", &Error{Err: base}, "boom", false},
		{"unmarked", base, "boom", false},
		{"nil", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err != nil && tt.err.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.text)
			}
			if got := IsPermanent(tt.err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.permanent)
			}
		})
	}
	if !errors.Is(Permanent(base), base) || !errors.Is(RetryAfter(time.Second, base), base) {
		t.Error("outcome errors must unwrap to the cause")
	}
}
