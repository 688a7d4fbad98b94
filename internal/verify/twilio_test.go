package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestTwilioVectors(t *testing.T) {
	if n := urlVectors(t, "twilio"); n != 6 {
		t.Fatalf("ran %d twilio vectors, want 6", n)
	}
}

// twilioFormBody is a form body of about size bytes.
func twilioFormBody(size int) []byte {
	v := url.Values{"EventType": {testTopic}, "MessageSid": {"SM0123"}, "Body": {""}}
	for len(v.Encode()) < size {
		v["Body"][0] += "x"
	}
	return []byte(v.Encode())
}

func twilioSource(secret, u string) config.Source {
	return config.Source{Provider: "twilio", Secrets: []string{secret}, NotificationURL: u}
}

func TestTwilioURLVariants(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"https://a.example/x?y=1", []string{"https://a.example/x?y=1", "https://a.example:443/x?y=1"}},
		{"https://a.example:443/x", []string{"https://a.example:443/x", "https://a.example/x"}},
		{"http://a.example", []string{"http://a.example", "http://a.example:80"}},
		{"http://a.example:80?q", []string{"http://a.example:80?q", "http://a.example?q"}},
		{"https://a.example:8443/x", []string{"https://a.example:8443/x"}},
		{"https://[::1]/x", []string{"https://[::1]/x", "https://[::1]:443/x"}},
		{"https://user@a.example/x", []string{"https://user@a.example/x", "https://user@a.example:443/x"}},
		{"https://a.example:/x", []string{"https://a.example:/x"}},
	} {
		if got := parseTwilioURL(tt.in).variants; !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := parseTwilioURL("https://a.example/?a=1&bodySHA256=abc").bodyHash; got != "abc" {
		t.Errorf("bodyHash %q", got)
	}
}

func TestTwilioRequests(t *testing.T) {
	const token = "12345"
	const base = "https://mycompany.com/myapp.php?foo=1&bar=2"
	v, err := newTwilio(twilioSource(token, base))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(s string) string {
		return base64.StdEncoding.EncodeToString(macSum(sha1.New, []byte(token), []byte(s)))
	}
	jsonBody := `{"property": "value", "boolean": true}`
	sum := sha256.Sum256([]byte(jsonBody))
	withHash := base + "&bodySHA256=" + hex.EncodeToString(sum[:])
	tests := []struct {
		name, ct, body, sig string
		want                string // error text; "" when accepted
	}{
		{"form", "application/x-www-form-urlencoded", "b=2&a=1", sign(base + "a1b2"), ""},
		{"form, default port", "", "a=1", sign("https://mycompany.com:443/myapp.php?foo=1&bar=2a1"), ""},
		{"repeated values sorted, duplicates dropped", "", "a=2&a=1&a=2", sign(base + "a1a2"), ""},
		{"form without params signs the URL", "", "", sign(base), ""},
		{"JSON, hash appended", "application/json; charset=utf-8", jsonBody, sign(withHash), ""},
		{"JSON sniffed", "", jsonBody, sign(withHash), ""},
		{"JSON by +json", "application/cloudevents-batch+json", "[1]", sign(base + "&bodySHA256=" + sha256Hex("[1]")), ""},
		{"JSON body sent as form", "application/x-www-form-urlencoded", jsonBody, sign(withHash), "does not match"},
		{"JSON with the wrong hash", "", `{"x":1}`, sign(withHash), "does not match"},
		{"form with the JSON rule", "", "a=1", sign(base + "&bodySHA256=" + sha256Hex("a=1")), "does not match"},
		{"bad form", "", "a=%zz", sign(base), "body is neither JSON nor a form"},
		{"not base64", "", "a=1", "!!!!", "is not a base64 HMAC-SHA1"},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set(twilioSigHeader, tt.sig)
		if tt.ct != "" {
			h.Set("Content-Type", tt.ct)
		}
		_, err := v.Verify(&Request{Header: h, Body: []byte(tt.body)})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want ErrBadSignature containing %q", tt.name, err, tt.want)
		}
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestTwilioResult(t *testing.T) {
	ext := vectorExts(t)
	vec := findVector(t, "twilio-official-form")
	v, err := newTwilio(twilioSource(vec.Secret, ext[vec.ID].NotificationURL))
	if err != nil {
		t.Fatal(err)
	}
	r := vec.request()
	r.Header.Set(twilioIdemHeader, "idem-1")
	res, err := v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{DeliveryID: "idem-1"}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}

	// A form's EventType is the topic; Sign reproduces the official vector.
	h, err := signTwilio(vec.Secret, []byte(vec.Body), SignOptions{URL: ext[vec.ID].NotificationURL, ID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get(twilioSigHeader), vec.Headers["X-Twilio-Signature"]; got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	if _, err := signTwilio("k", []byte("a=1"), SignOptions{}); err == nil {
		t.Error("signed without a URL")
	}
}

// FuzzTwilioSignature: no panic, and nothing is accepted whose signature is
// not the token's HMAC of one of the URL's spellings followed by the form's
// parameters or by the body's bodySHA256.
func FuzzTwilioSignature(f *testing.F) {
	const token = "12345"
	const base = "https://mycompany.com/myapp.php?foo=1&bar=2"
	for _, v := range loadVectors(f) {
		if v.Provider == "twilio" {
			f.Add(v.Headers["X-Twilio-Signature"], v.Headers["Content-Type"], []byte(v.Body))
		}
	}
	ver, err := newTwilio(twilioSource(token, base))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig, ct string, body []byte) {
		h := http.Header{}
		h.Set(twilioSigHeader, sig)
		h.Set("Content-Type", ct)
		_, err := ver.Verify(&Request{Header: h, Body: body})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		mac := func(s string) string {
			m := hmac.New(sha1.New, []byte(token))
			m.Write([]byte(s))
			return base64.StdEncoding.EncodeToString(m.Sum(nil))
		}
		sum := sha256.Sum256(body)
		for _, u := range []string{base, "https://mycompany.com:443/myapp.php?foo=1&bar=2"} {
			if sig == mac(u+"&bodySHA256="+hex.EncodeToString(sum[:])) {
				return
			}
			if form, err := url.ParseQuery(string(body)); err == nil {
				s := u
				for _, k := range slices.Sorted(maps.Keys(form)) {
					for _, val := range slices.Compact(slices.Sorted(slices.Values(form[k]))) {
						s += k + val
					}
				}
				if sig == mac(s) {
					return
				}
			}
		}
		t.Fatalf("accepted %q for body %q", sig, body)
	})
}
