package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// The bigcommerce provider takes the client secret as BigCommerce shows it;
// TestStandardWebhooksBigCommerceVectors runs the same vectors through
// standard-webhooks with the secret written as whsec_<base64>.
func TestBigCommerceVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("bigcommerce"), v.Provider == "bigcommerce"
	})
	if n != 5 {
		t.Fatalf("ran %d bigcommerce vectors, want 5", n)
	}
}

func TestBigCommerceResult(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want Result
	}{
		{"bigcommerce-computed-1", Result{Topic: "store/order/statusUpdated",
			DeliveryID: "a5b4c3d2-e1f0-4a5b-9c8d-7e6f5a4b3c2d", Timestamp: time.Unix(1700000000, 0)}},
		{"bigcommerce-computed-2", Result{Topic: "store/order/updated", // body created_at
			DeliveryID: "a5b4c3d2-e1f0-4a5b-9c8d-7e6f5a4b3c2d", Timestamp: time.Unix(1688588419, 0)}},
	} {
		vec := findVector(t, tt.id)
		v, err := newBigCommerce(vec.source("bigcommerce"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(vec.request())
		if err != nil {
			t.Fatal(err)
		}
		if !res.Timestamp.Equal(tt.want.Timestamp) {
			t.Errorf("%s: Timestamp %v, want %v", tt.id, res.Timestamp, tt.want.Timestamp)
		}
		res.Timestamp, tt.want.Timestamp = time.Time{}, time.Time{}
		if res != tt.want {
			t.Errorf("%s: Result = %+v, want %+v", tt.id, res, tt.want)
		}
	}
}

func TestBigCommerceSign(t *testing.T) {
	vec := findVector(t, "bigcommerce-computed-1")
	h, err := signBigCommerce(vec.Secret, []byte(vec.Body), SignOptions{ID: vec.Headers["webhook-id"], Now: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("webhook-signature"), vec.Headers["webhook-signature"]; got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	// The secret is never decoded: a whsec_ value is a key like any other.
	v, _ := newBigCommerce(config.Source{Secrets: []string{"whsec_" + base64.StdEncoding.EncodeToString([]byte(vec.Secret))}})
	if _, err := v.Verify(vec.request()); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("whsec_ form of the secret: %v, want ErrBadSignature", err)
	}
}

// FuzzBigCommerceSignature: no panic, and only "v1,<base64 HMAC>" keyed
// with the raw secret over "<id>.<ts>.<body>" is accepted, inside the
// window.
func FuzzBigCommerceSignature(f *testing.F) {
	const secret = "bc-app-client-secret-example-0123"
	for _, v := range loadVectors(f) {
		if v.Provider == "bigcommerce" {
			f.Add(v.Headers["webhook-id"], v.Headers["webhook-timestamp"], v.Headers["webhook-signature"], []byte(v.Body), v.VerifyAt)
		}
	}
	ver, err := newBigCommerce(config.Source{Secrets: []string{secret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte, now int64) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sig)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: time.Unix(now, 0)})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp) {
				t.Fatalf("%v wraps neither sentinel", err)
			}
			return
		}
		if n, err := strconv.ParseInt(ts, 10, 64); err != nil || n < now-300 || n > now+300 {
			t.Fatalf("accepted timestamp %q at %d", ts, now)
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(id + "." + ts + "."))
		m.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
		for entry := range strings.SplitSeq(sig, " ") {
			if entry == want {
				return
			}
		}
		t.Fatalf("accepted %q, which lacks %q", sig, want)
	})
}
