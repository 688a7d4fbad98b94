package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
)

// sender delivers one notification: the incident in its current state
// (firing or resolved). Its error is classified like a delivery attempt's:
// deliver.Permanent drops the notification, deliver.RetryAfter sets a
// floor on the wait, anything else retries on the outbox's schedule.
// Errors never carry the notifier's URL or key.
type sender func(ctx context.Context, in *Incident, now time.Time) error

func newSender(a config.Alert, client *http.Client) (sender, error) {
	switch a.Type {
	case "slack":
		return slackSender(client, a.URL), nil
	case "pagerduty":
		return pagerDutySender(client, a.URL, a.RoutingKey), nil
	case "webhook":
		return webhookSender(client, a.URL, a.Headers), nil
	case "email":
		if a.SMTP == nil {
			return nil, errors.New("smtp: required for type email")
		}
		return emailSender(*a.SMTP), nil
	}
	return nil, fmt.Errorf("type: unknown alert type %q", a.Type)
}

// outbox is one notifier's queue. Notifications are kept in memory and
// retried with a deliver.Policy schedule, so a notifier that fails for a
// while (a flaky Slack) still gets every page once it answers; they do not
// survive a restart. Per incident key they go out in order, so a resolved
// message never overtakes its firing one.
type outbox struct {
	name, kind string
	send       sender
	runbook    string
	policy     deliver.Policy
	rand       func() float64
	log        *slog.Logger
	wake       chan struct{}

	mu    sync.Mutex
	queue []*pending
}

type pending struct {
	in       Incident
	attempts int
	due      time.Time
	sending  bool // taken by a deliverDue call (Run's loop or Flush)
}

func (o *outbox) enqueue(in Incident) {
	o.mu.Lock()
	o.queue = append(o.queue, &pending{in: in})
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue)
}

// run delivers notifications as they come due until ctx ends.
func (o *outbox) run(ctx context.Context, now func() time.Time) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := o.deliverDue(ctx, now())
		var due <-chan time.Time
		if !next.IsZero() {
			timer.Reset(max(0, next.Sub(now())))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			if n := o.len(); n > 0 {
				o.log.Error("alert notifications not delivered before shutdown", "notifier", o.name, "pending", n)
			}
			return
		case <-o.wake:
		case <-due:
		}
		timer.Stop()
	}
}

// deliverDue sends every notification due at now, each at most once, and
// returns when the next one is due (zero when the queue is empty).
func (o *outbox) deliverDue(ctx context.Context, now time.Time) time.Time {
	tried := map[*pending]bool{}
	for {
		batch := o.eligible(now, tried)
		if len(batch) == 0 {
			return o.nextDue()
		}
		for _, p := range batch {
			tried[p] = true
			err := o.send(ctx, &p.in, now)
			o.done(p, err, now)
		}
	}
}

// eligible returns the first notification of each incident key, if due
// and not yet tried in this round.
func (o *outbox) eligible(now time.Time, tried map[*pending]bool) []*pending {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*pending
	blocked := map[string]bool{}
	for _, p := range o.queue {
		if blocked[p.in.Key] {
			continue
		}
		blocked[p.in.Key] = true
		if !tried[p] && !p.sending && !p.due.After(now) {
			p.sending = true
			out = append(out, p)
		}
	}
	return out
}

func (o *outbox) nextDue() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	var next time.Time
	blocked := map[string]bool{}
	for _, p := range o.queue {
		if blocked[p.in.Key] {
			continue
		}
		blocked[p.in.Key] = true
		if next.IsZero() || p.due.Before(next) {
			next = p.due
		}
	}
	return next
}

// done records a send's outcome: delivered and permanently failed
// notifications leave the queue; others wait for their next try.
func (o *outbox) done(p *pending, err error, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	remove := func() {
		if i := slices.Index(o.queue, p); i >= 0 {
			o.queue = slices.Delete(o.queue, i, i+1)
		}
	}
	p.sending = false
	p.attempts++
	attrs := []any{"notifier", o.name, "type", o.kind, "alert", p.in.Key, "state", p.in.State, "attempt", p.attempts}
	if err == nil {
		remove()
		o.log.Debug("alert notification sent", attrs...)
		return
	}
	// The error never holds the URL or key, and is sanitized once more.
	attrs = append(attrs, "error", sanitize(err.Error()))
	if deliver.IsPermanent(err) || o.policy.Exhausted(p.attempts) {
		remove()
		o.log.Error("alert notification dropped", attrs...)
		return
	}
	wait := o.policy.Next(p.attempts, o.rand())
	if e, ok := errors.AsType[*deliver.Error](err); ok {
		wait = max(wait, e.RetryAfter)
	}
	wait = max(wait, time.Second)
	p.due = now.Add(wait)
	o.log.Warn("alert notification failed; will retry", append(attrs, "retry_in", wait.String())...)
}

// postJSON posts v as JSON and classifies the answer as a delivery
// attempt: 2xx succeeds; 408, 425, 429, 5xx and network errors retry
// (honouring Retry-After); other answers are permanent.
func postJSON(ctx context.Context, client *http.Client, what, target string, header http.Header, v any, now time.Time) error {
	b, err := json.Marshal(v)
	if err != nil {
		return deliver.Permanent(fmt.Errorf("%s: encode: %w", what, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return deliver.Permanent(fmt.Errorf("%s: the configured URL is not usable", what))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hookyard-alert")
	resp, err := client.Do(req)
	if err != nil {
		// url.Error quotes the URL, which may be a credential (Slack).
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	out := deliver.Classify(resp.StatusCode, resp.Header, nil, now)
	if out.OK() {
		return nil
	}
	// Typed, so a durable notification's attempt records the class
	// (5xx, 429, …) as any delivery's would.
	return &deliver.Error{Err: fmt.Errorf("%s: %w", what, out.Err), Class: out.Class,
		Permanent: out.Permanent, RetryAfter: out.RetryAfter}
}
