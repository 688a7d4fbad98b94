package verify

import (
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// ShipBob has no vectors of its own; it signs with Standard Webhooks, so
// that scheme's vectors (including Svix's) must pass through it unchanged.
func TestShipBobVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		ok := v.Scheme == "standard-webhooks-v1" || v.Scheme == "standard-webhooks-v1a"
		return v.source("shipbob"), ok
	})
	if n != 12 {
		t.Fatalf("ran %d standard-webhooks vectors through shipbob, want 12", n)
	}
}

func TestShipBobTopic(t *testing.T) {
	vec := findVector(t, "standardwebhooks-official-1")
	v, err := newShipBob(vec.source("shipbob"))
	if err != nil {
		t.Fatal(err)
	}
	r := vec.request()
	r.Header.Set("x-webhook-topic", "order.shipped")
	res, err := v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "order.shipped", DeliveryID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: time.Unix(1614265330, 0)}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	h, err := signShipBob(vec.Secret, []byte(vec.Body), SignOptions{ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Now: time.Unix(1614265330, 0), Topic: "order.shipped"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("webhook-signature") != vec.Headers["webhook-signature"] || h.Get("x-webhook-topic") != "order.shipped" {
		t.Errorf("signed headers %v", h)
	}
	if _, err := newShipBob(config.Source{Secrets: []string{"not-whsec"}}); err == nil {
		t.Error("accepted a secret that is not whsec_/whpk_")
	}
}
