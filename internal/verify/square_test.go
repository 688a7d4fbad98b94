package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestSquareVectors(t *testing.T) {
	if n := urlVectors(t, "square"); n != 5 {
		t.Fatalf("ran %d square vectors, want 5", n)
	}
}

func squareSource(secret, u string) config.Source {
	return config.Source{Provider: "square", Secrets: []string{secret}, NotificationURL: u}
}

func TestSquareResult(t *testing.T) {
	ext := vectorExts(t)
	vec := findVector(t, "square-official-1")
	u := ext[vec.ID].NotificationURL
	v, err := newSquare(squareSource(vec.Secret, u))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "webhooks.test_notification", DeliveryID: "ac3ac95b-f97d-458c-a6e6-18981597e05f",
		Timestamp: time.Date(2022, 7, 13, 20, 30, 59, 37339943, time.UTC)}
	checkResult(t, res, want)

	// Request.URL, when the caller sets one, is the URL that was signed.
	other, _ := newSquare(squareSource(vec.Secret, "https://proxy.example/other"))
	if _, err := other.Verify(vec.request()); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("other notification_url: %v, want ErrBadSignature", err)
	}
	r := vec.request()
	r.URL = u
	if _, err := other.Verify(r); err != nil {
		t.Errorf("Request.URL set: %v", err)
	}
}

func TestSquareLegacy(t *testing.T) {
	const secret, u = "signature-key", "https://hooks.example.com/square"
	body := []byte(`{"type":"payment.updated","event_id":"e1"}`)
	v, err := newSquare(squareSource(secret, u))
	if err != nil {
		t.Fatal(err)
	}
	sha1Sig := base64.StdEncoding.EncodeToString(macSum(sha1.New, []byte(secret), []byte(u), body))
	sha256Sig := base64.StdEncoding.EncodeToString(macSum(sha256.New, []byte(secret), []byte(u), body))
	tests := []struct {
		name    string
		headers map[string]string
		want    string // error text; "" when accepted
	}{
		{"sha256 only", map[string]string{squareSigHeader: sha256Sig}, ""},
		{"sha1 only", map[string]string{squareLegacyHeader: sha1Sig}, ""},
		{"both", map[string]string{squareSigHeader: sha256Sig, squareLegacyHeader: sha1Sig}, ""},
		{"wrong sha256 is not rescued by sha1", map[string]string{squareSigHeader: sha1Sig + "AAAAAAAA", squareLegacyHeader: sha1Sig},
			"x-square-hmacsha256-signature is not a base64 HMAC"},
		{"wrong sha256, right sha1", map[string]string{squareSigHeader: base64.StdEncoding.EncodeToString(make([]byte, 32)), squareLegacyHeader: sha1Sig},
			"x-square-hmacsha256-signature does not match"},
		{"sha256 value in the sha1 header", map[string]string{squareLegacyHeader: sha256Sig}, "x-square-signature is not a base64 HMAC"},
		{"neither", nil, "missing x-square-hmacsha256-signature header"},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, val := range tt.headers {
			h.Set(k, val)
		}
		_, err := v.Verify(&Request{Header: h, Body: body})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want ErrBadSignature %q", tt.name, err, tt.want)
		}
	}
}

func TestSquareNew(t *testing.T) {
	for _, tt := range []struct {
		src  config.Source
		want string
	}{
		{squareSource("k", ""), "notification_url: required"},
		{squareSource("k", "/ingest/square"), "notification_url: must be an absolute"},
		{config.Source{NotificationURL: "https://a.example/x"}, "secrets: at least one"},
	} {
		if _, err := newSquare(tt.src); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.src, err, tt.want)
		}
	}
	if _, err := signSquare("k", nil, SignOptions{}); err == nil {
		t.Error("signed without a URL")
	}
}

// FuzzSquareSignature: no panic; only the HMAC of URL+body is accepted,
// SHA-256 when its header is present, else the legacy SHA-1.
func FuzzSquareSignature(f *testing.F) {
	const secret, u = "Ibxx_5AKakO-3qeNVR61Dw", "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
	for _, v := range loadVectors(f) {
		if v.Provider == "square" {
			f.Add(v.Headers["x-square-hmacsha256-signature"], "", []byte(v.Body))
		}
	}
	f.Add("", "AAAA", []byte("{}"))
	ver, err := newSquare(squareSource(secret, u))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig, legacy string, body []byte) {
		h := http.Header{}
		if sig != "" {
			h.Set(squareSigHeader, sig)
		}
		if legacy != "" {
			h.Set(squareLegacyHeader, legacy)
		}
		_, err := ver.Verify(&Request{Header: h, Body: body})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		if sig != "" {
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(u))
			m.Write(body)
			if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
				t.Fatalf("accepted %q, want %q", sig, want)
			}
			return
		}
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(u))
		m.Write(body)
		if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); legacy != want {
			t.Fatalf("accepted legacy %q, want %q", legacy, want)
		}
	})
}
