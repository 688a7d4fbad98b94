package transform

import (
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// Envelope is the input every route expression sees, as a JSON object:
//
//	{
//	  "source":      "shop",                    // configured source name
//	  "provider":    "shopify",                 // verifying provider scheme
//	  "topic":       "orders/create",
//	  "id":          "evt_01J…",                // hookyard's event id
//	  "received_at": "2024-05-01T12:00:00.123456789Z",
//	  "headers":     {"x-shopify-topic": "orders/create", …},
//	  "body":        {…}                        // the decoded JSON body
//	}
//
// Header names are lower-case; a header sent once is a string, one sent
// several times an array of strings. Headers that carry credentials are never
// present (see isSecretHeader). A body that is not JSON is given as a string.
type Envelope struct {
	Source     string
	Provider   string
	Topic      string
	ID         string
	ReceivedAt time.Time
	Headers    map[string]any
	Body       any
}

// Value returns the envelope as the map[string]any jq programs take.
func (e *Envelope) Value() map[string]any {
	return map[string]any{
		"source":      e.Source,
		"provider":    e.Provider,
		"topic":       e.Topic,
		"id":          e.ID,
		"received_at": e.ReceivedAt.UTC().Format(time.RFC3339Nano),
		"headers":     e.Headers,
		"body":        e.Body,
	}
}

// EnvelopeOf builds the envelope for ev: headers filtered and lower-cased,
// the body decoded with DecodeJSON (or kept as a string when it is not JSON).
func EnvelopeOf(ev *webhook.Event) *Envelope {
	headers := make(map[string]any, len(ev.Headers))
	for name, values := range ev.Headers {
		name = strings.ToLower(name)
		if isSecretHeader(name) || len(values) == 0 {
			continue
		}
		if prev, ok := headers[name]; ok { // two spellings of one name
			values = append(toStrings(prev), values...)
		}
		if len(values) == 1 {
			headers[name] = values[0]
		} else {
			list := make([]any, len(values))
			for i, v := range values {
				list[i] = v
			}
			headers[name] = list
		}
	}
	body, err := DecodeJSON(ev.Body)
	if err != nil {
		body = string(ev.Body)
	}
	return &Envelope{
		Source:     ev.Source,
		Provider:   ev.Provider,
		Topic:      ev.Topic,
		ID:         ev.ID,
		ReceivedAt: ev.ReceivedAt,
		Headers:    headers,
		Body:       body,
	}
}

// NewEnvelope returns the expression input for ev: EnvelopeOf(ev).Value().
func NewEnvelope(ev *webhook.Event) map[string]any { return EnvelopeOf(ev).Value() }

func toStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			out[i], _ = x.(string)
		}
		return out
	}
	return nil
}

// secretHeaderWords mark headers whose values are credentials or
// signatures: a transform has no business reading them, and they must not
// leak into a destination payload or a preview.
var secretHeaderWords = []string{"signature", "hmac", "authorization", "token", "secret", "cookie", "api-key", "apikey", "password"}

func isSecretHeader(lower string) bool {
	for _, w := range secretHeaderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}
