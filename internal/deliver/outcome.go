package deliver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/outcome"
	"github.com/hookyard/hookyard/internal/webhook"
)

// MaxRetryAfter bounds the wait a destination may ask for with Retry-After
// (or a sender with RetryAfter), so a bad header cannot park a delivery for
// years.
const MaxRetryAfter = 24 * time.Hour

// Outcome is what one attempt means for its delivery: success, a retry
// (after at least RetryAfter, when set), or a permanent failure that
// dead-letters at once.
type Outcome struct {
	StatusCode int    // 0 when no HTTP response arrived (or the sender is not HTTP)
	Class      string // "" on success, else one of the webhook.Class* constants
	Err        error  // nil on success; the failure to record on the attempt
	// RetryAfter is the wait the destination asked for, clamped to
	// [0, MaxRetryAfter]; 0 when it named none. Only set on retries.
	RetryAfter time.Duration
	// Permanent means retrying cannot help: dead-letter now.
	Permanent bool
	// DisableDestination means the destination said it is gone for good
	// (410 Gone): stop sending it anything.
	DisableDestination bool
}

// OK reports whether the attempt succeeded.
func (o Outcome) OK() bool { return o.Err == nil }

// Classify turns the result of one attempt into an Outcome. err is the
// transport or sender error (nil when a response arrived); statusCode and
// header describe the response. A nil err with status 0 is the success of a
// non-HTTP sender. now is the clock against which an HTTP-date Retry-After
// is measured.
//
// 2xx succeeds. 408, 425, 429 and 5xx retry, honouring Retry-After. Other
// 4xx and every 3xx (redirects are never followed) are permanent, and 410
// also disables the destination. Timeouts retry with class timeout, other
// errors with class connection, unless the sender stated the outcome with
// Permanent, RetryAfter or an *Error.
func Classify(statusCode int, header http.Header, err error, now time.Time) Outcome {
	o := Outcome{StatusCode: statusCode}
	if err != nil {
		o.Err = err
		o.Class = webhook.ClassConnection
		if isTimeout(err) {
			o.Class = webhook.ClassTimeout
		}
		if e, ok := errors.AsType[*Error](err); ok {
			o.Class = cmp.Or(e.Class, o.Class)
			o.Permanent = e.Permanent
			if !e.Permanent {
				o.RetryAfter = clampRetryAfter(e.RetryAfter)
			}
		}
		return o
	}

	switch {
	case statusCode == 0, statusCode >= 200 && statusCode <= 299:
		return o
	case statusCode >= 300 && statusCode <= 399:
		o.Class = webhook.ClassHTTP3xx
		o.Permanent = true
		o.Err = fmt.Errorf("HTTP %d %s: redirects are not followed", statusCode, http.StatusText(statusCode))
		if loc := header.Get("Location"); loc != "" {
			o.Err = fmt.Errorf("%w (Location: %.200s)", o.Err, loc)
		}
		return o
	case statusCode == http.StatusTooManyRequests:
		o.Class = webhook.ClassHTTP429
	case statusCode == http.StatusRequestTimeout, statusCode == http.StatusTooEarly:
		o.Class = webhook.ClassHTTP4xx
	case statusCode == http.StatusGone:
		o.Class = webhook.ClassHTTP4xx
		o.Permanent = true
		o.DisableDestination = true
	case statusCode >= 400 && statusCode <= 499:
		o.Class = webhook.ClassHTTP4xx
		o.Permanent = true
	default:
		// 5xx, and codes outside 200–599 that only a broken server sends:
		// retrying costs little and may meet a fixed one.
		o.Class = webhook.ClassHTTP5xx
	}
	o.Err = fmt.Errorf("HTTP %d %s", statusCode, http.StatusText(statusCode))
	if !o.Permanent {
		o.RetryAfter = ParseRetryAfter(header.Get("Retry-After"), now)
	}
	return o
}

// ParseRetryAfter parses a Retry-After header value — delta-seconds or an
// HTTP-date, measured from now — and clamps it to [0, MaxRetryAfter]. An
// empty or malformed value gives 0.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if isDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(MaxRetryAfter/time.Second) { // overflow or too far
			return MaxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return clampRetryAfter(t.Sub(now))
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func clampRetryAfter(d time.Duration) time.Duration {
	return min(max(d, 0), MaxRetryAfter)
}

// isTimeout reports whether err is a deadline: the attempt's context, or a
// network timeout (dial, TLS handshake, read).
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

// Error is an outcome a sender (or a transform) states explicitly instead
// of leaving it to Classify's reading of the error. It may be wrapped;
// Classify finds it with errors.As. It is outcome.Error, so that senders
// can state outcomes without importing this package.
type Error = outcome.Error

// Permanent marks err as a failure that retrying cannot fix: the delivery
// is dead-lettered at once. A nil err still yields a non-nil error.
func Permanent(err error) error { return outcome.Permanent(err) }

// RetryAfter marks err as a failure to retry no sooner than d from now
// (clamped to [0, MaxRetryAfter] by Classify). A nil err still yields a
// non-nil error.
func RetryAfter(d time.Duration, err error) error { return outcome.RetryAfter(d, err) }

// IsPermanent reports whether err, or an error it wraps, was marked
// permanent.
func IsPermanent(err error) bool { return outcome.IsPermanent(err) }
