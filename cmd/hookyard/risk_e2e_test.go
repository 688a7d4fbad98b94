package main

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestRiskVelocityConfigured: with transforms.risk.velocity_window set, the
// node counts a customer's orders itself; the third distinct order within
// the window scores the configured velocity_score, a redelivered order does
// not count again, and another customer is not affected.
func TestRiskVelocityConfigured(t *testing.T) {
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""),
		"  - {source: shop, destination: oms, transform: '.body | risk_score'}\n",
		"transforms:\n  risk:\n    high_value: \"\"\n    velocity_window: 1h\n    velocity_threshold: 3\n    velocity_score: 45\n")
	send := func(webhookID string, order int, email string) string {
		t.Helper()
		body := fmt.Appendf(nil, `{"id":%d,"email":%q,"customer":{"id":%d,"email":%q},"total_price":"19.99","currency":"USD","line_items":[]}`, order, email, order, email)
		if resp, b := post(t, n.ingestURL("shop"), body, webhookID); resp.StatusCode != 202 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		var got struct {
			Score   int      `json:"score"`
			Reasons []string `json:"reasons"`
		}
		r := sk.next(t)
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatalf("payload %s", r.body)
		}
		return fmt.Sprint(got.Score, got.Reasons)
	}
	for _, s := range []struct {
		webhook string
		order   int
		email   string
		want    string
	}{
		{"v-1", 1001, "Buyer@Example.com", "0 []"},
		{"v-2", 1002, "buyer@example.com", "0 []"},
		{"v-2-again", 1002, "buyer@example.com", "0 []"}, // the same order sent again by the shop
		{"v-3", 1003, "other@example.com", "0 []"},
		{"v-4", 1004, "BUYER@example.com", "45 [velocity]"},
	} {
		if got := send(s.webhook, s.order, s.email); got != s.want {
			t.Fatalf("webhook %s (order %d, %s): score %s, want %s", s.webhook, s.order, s.email, got, s.want)
		}
	}
}
