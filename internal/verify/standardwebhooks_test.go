package verify

import (
	"crypto/ed25519"
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

func TestStandardWebhooksVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		ok := v.Scheme == "standard-webhooks-v1" || v.Scheme == "standard-webhooks-v1a"
		return v.source("standard-webhooks"), ok
	})
	if n != 12 { // standard-webhooks v1 and v1a, and svix
		t.Fatalf("ran %d vectors, want 12", n)
	}
}

// BigCommerce keys the HMAC with the raw client secret; a source writes it
// as whsec_ followed by its base64, as BigCommerce's docs do for the
// reference libraries.
func TestStandardWebhooksBigCommerceVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		src := v.source("standard-webhooks")
		src.Secrets = []string{"whsec_" + base64.StdEncoding.EncodeToString([]byte(v.Secret))}
		return src, v.Scheme == "standard-webhooks-v1-raw-secret"
	})
	if n != 5 {
		t.Fatalf("ran %d vectors, want 5", n)
	}
}

func TestStandardWebhooksResult(t *testing.T) {
	vec := findVector(t, "svix-computed-1")
	v, err := newStandardWebhooks(vec.source("standard-webhooks"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "invoice.paid", DeliveryID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", Timestamp: time.Unix(1674087231, 0)}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
}

func TestStandardWebhooksHeaders(t *testing.T) {
	vec := findVector(t, "standardwebhooks-official-1")
	const (
		v1  = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
		v1a = "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag=="
		pk  = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g="
	)
	tests := []struct {
		name    string
		secrets []string
		headers map[string]string // over the vector's; "" deletes
		want    string            // error text; "" when accepted
		index   int
	}{
		{"v1", []string{vec.Secret}, nil, "", 0},
		{"v1a", []string{pk}, map[string]string{"webhook-signature": v1a}, "", 0},
		{"mixed keys, v1a matches", []string{vec.Secret, pk}, map[string]string{"webhook-signature": "v1,AAAA v1a,x " + v1a}, "", 1},
		{"unknown versions ignored", []string{vec.Secret}, map[string]string{"webhook-signature": "v2,abc " + v1 + " v3"}, "", 0},
		{"double spaces", []string{vec.Secret}, map[string]string{"webhook-signature": "  " + v1 + "  "}, "", 0},
		{"svix headers", []string{vec.Secret}, map[string]string{
			"webhook-id": "", "webhook-timestamp": "", "webhook-signature": "",
			"svix-id": vec.Headers["webhook-id"], "svix-timestamp": vec.Headers["webhook-timestamp"], "svix-signature": v1,
		}, "", 0},
		{"no signature", []string{vec.Secret}, map[string]string{"webhook-signature": ""}, "missing webhook-signature (or svix-signature) header", 0},
		{"no id", []string{vec.Secret}, map[string]string{"webhook-id": ""}, "missing webhook-id header", 0},
		{"no timestamp", []string{vec.Secret}, map[string]string{"webhook-timestamp": ""}, "missing webhook-timestamp header", 0},
		{"svix, no id", []string{vec.Secret}, map[string]string{"webhook-signature": "", "svix-signature": v1}, "missing svix-id header", 0},
		{"bad timestamp", []string{vec.Secret}, map[string]string{"webhook-timestamp": "1614265330.5"}, `webhook-timestamp "1614265330.5" is not unix seconds`, 0},
		{"only v1a, hmac key", []string{vec.Secret}, map[string]string{"webhook-signature": v1a}, "no v1 signature matched", 0},
		{"only v1, public key", []string{pk}, nil, "no v1a signature matched", 0},
		{"both kinds", []string{vec.Secret, pk}, map[string]string{"webhook-signature": "v1,x"}, "no v1 or v1a signature matched", 0},
		{"non-canonical base64", []string{vec.Secret}, map[string]string{"webhook-signature": v1[:len(v1)-2] + "F="}, "no v1 signature matched", 0},
		{"id not signed as sent", []string{vec.Secret}, map[string]string{"webhook-id": "msg_other"}, "no v1 signature matched", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := newStandardWebhooks(config.Source{Secrets: tt.secrets})
			if err != nil {
				t.Fatal(err)
			}
			r := vec.request()
			for k, val := range tt.headers {
				if val == "" {
					r.Header.Del(k)
				} else {
					r.Header.Set(k, val)
				}
			}
			res, err := v.Verify(r)
			if tt.want == "" {
				if err != nil || res.SecretIndex != tt.index {
					t.Fatalf("SecretIndex %d, err %v; want %d, accepted", res.SecretIndex, err, tt.index)
				}
				return
			}
			if !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v, want ErrBadSignature containing %q", err, tt.want)
			}
		})
	}
}

func TestStandardWebhooksNew(t *testing.T) {
	tests := []struct {
		secret string
		want   string
	}{
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ""},
		{"whsec_aGVsbG8", ""}, // unpadded
		{"whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=", ""},
		{"whsec_not*base64!", "secrets[0]: the part after whsec_ is not base64"},
		{"whsec_", "secrets[0]: the part after whsec_ is not base64"},
		{"whpk_aGVsbG8=", "secrets[0]: the part after whpk_ is not a base64 Ed25519 public key (32 bytes)"},
		{"whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=", "secrets[0]: whsk_ is a private signing key"},
		{"bc-app-client-secret-example-0123", "secrets[0]: want whsec_<base64> (HMAC) or whpk_<base64>"},
		{"", "secrets[0]: empty"},
	}
	for _, tt := range tests {
		_, err := newStandardWebhooks(config.Source{Secrets: []string{tt.secret}})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.secret, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%q: %v, want %q", tt.secret, err, tt.want)
		case err != nil && len(tt.secret) > 6 && strings.Contains(err.Error(), tt.secret[6:]):
			t.Errorf("%q: error %q quotes the secret", tt.secret, err)
		}
	}
}

func TestStandardWebhooksSign(t *testing.T) {
	// The official vector, reproduced.
	vec := findVector(t, "standardwebhooks-official-1")
	h, err := signStandardWebhooks(vec.Secret, []byte(vec.Body), SignOptions{
		ID: vec.Headers["webhook-id"], Now: time.Unix(1614265330, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("webhook-signature"), vec.Headers["webhook-signature"]; got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	// Ed25519 from the vector's seed.
	vec = findVector(t, "standardwebhooks-v1a-official")
	h, err = signStandardWebhooks("whsk_"+vec.SeedB64, []byte(vec.Body), SignOptions{
		ID: vec.Headers["webhook-id"], Now: time.Unix(1614265330, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("webhook-signature"), vec.Headers["webhook-signature"]; got != want {
		t.Errorf("v1a signature %q, want %q", got, want)
	}
	// A generated id.
	h, err = signStandardWebhooks("whsec_aGVsbG8=", nil, SignOptions{Now: time.Unix(1, 0)})
	if err != nil || !strings.HasPrefix(h.Get("webhook-id"), "msg_") || len(h.Get("webhook-id")) < 20 {
		t.Errorf("generated id %q, err %v", h.Get("webhook-id"), err)
	}
	if _, err := signStandardWebhooks(vec.Secret, nil, SignOptions{}); err == nil {
		t.Error("signed with a public key")
	}
}

// FuzzStandardWebhooksSignature feeds arbitrary webhook-id,
// webhook-timestamp and webhook-signature values, bodies and clocks to a
// verifier holding the vectors' HMAC secret and Ed25519 public key: it must
// not panic, and it may only accept a list holding the canonical v1 or v1a
// signature of "<id>.<timestamp>.<body>", with the timestamp in the window.
func FuzzStandardWebhooksSignature(f *testing.F) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		pub    = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g="
		seed   = "VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk="
	)
	for _, v := range loadVectors(f) {
		if v.Scheme != "standard-webhooks-v1" && v.Scheme != "standard-webhooks-v1a" {
			continue
		}
		pre := "webhook-"
		if v.Provider == "svix" {
			pre = "svix-"
		}
		f.Add(v.Headers[pre+"id"], v.Headers[pre+"timestamp"], v.Headers[pre+"signature"], []byte(v.Body), v.VerifyAt, pre == "svix-")
	}
	ver, err := newStandardWebhooks(config.Source{Secrets: []string{secret, pub}})
	if err != nil {
		f.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	seedBytes, _ := base64.StdEncoding.DecodeString(seed)
	priv := ed25519.NewKeyFromSeed(seedBytes)

	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte, now int64, svix bool) {
		hs := swStandard
		if svix {
			hs = swSvix
		}
		h := http.Header{}
		h.Set(hs.id, id)
		h.Set(hs.timestamp, ts)
		h.Set(hs.signature, sig)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: time.Unix(now, 0)})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp) {
				t.Fatalf("%v wraps neither sentinel", err)
			}
			return
		}
		n, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || n < now-300 || n > now+300 {
			t.Fatalf("accepted timestamp %q at %d", ts, now)
		}
		msg := []byte(id + "." + ts + "." + string(body))
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		wantV1 := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
		wantV1a := "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg))
		for entry := range strings.SplitSeq(sig, " ") {
			if entry == wantV1 || entry == wantV1a {
				return
			}
		}
		t.Fatalf("accepted %q, which holds neither %q nor %q", sig, wantV1, wantV1a)
	})
}
