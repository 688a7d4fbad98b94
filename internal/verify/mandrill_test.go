package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// urlVectors runs the vectors of a URL-bound provider with each vector's
// notification_url configured on the source.
func urlVectors(t *testing.T, provider string) int {
	t.Helper()
	ext := vectorExts(t)
	return runVectors(t, func(v vector) (config.Source, bool) {
		src := v.source(provider)
		src.NotificationURL = ext[v.ID].NotificationURL
		return src, v.Provider == provider
	})
}

func TestMandrillVectors(t *testing.T) {
	if n := urlVectors(t, "mandrill"); n != 4 {
		t.Fatalf("ran %d mandrill vectors, want 4", n)
	}
}

// mandrillBody is a form body of about size bytes holding one send event.
func mandrillBody(size int) []byte {
	ev := fmt.Sprintf(`[{"event":%q,"_id":%q,"ts":%d,"msg":{"subject":"`, testTopic, testID, testNow.Unix())
	for len(url.QueryEscape(ev)) < size-40 {
		ev += "x"
	}
	ev += `"}}]`
	return []byte("mandrill_events=" + url.QueryEscape(ev))
}

func mandrillSource(secret, u string) config.Source {
	return config.Source{Provider: "mandrill", Secrets: []string{secret}, NotificationURL: u}
}

func TestMandrillResult(t *testing.T) {
	ext := vectorExts(t)
	vec := findVector(t, "mandrill-computed-1")
	v, err := newMandrill(mandrillSource(vec.Secret, ext[vec.ID].NotificationURL))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Topic: "send"}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}

	// The empty batch sent when a webhook is added is a handshake.
	vec = findVector(t, "mandrill-computed-empty")
	res, err = v.Verify(vec.request())
	if err != nil || res.Handshake == nil || res.Handshake.Status != 0 || len(res.Handshake.Body) != 0 {
		t.Errorf("empty batch: %+v, %v; want a plain 200 handshake", res, err)
	}

	// Request.URL overrides notification_url.
	other, err := newMandrill(mandrillSource(vec.Secret, "https://elsewhere.example/x"))
	if err != nil {
		t.Fatal(err)
	}
	r := vec.request()
	if _, err := other.Verify(r); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("other URL: %v, want ErrBadSignature", err)
	}
	r.URL = ext[vec.ID].NotificationURL
	if _, err := other.Verify(r); err != nil {
		t.Errorf("Request.URL: %v", err)
	}
}

func TestMandrillForm(t *testing.T) {
	const secret, u = "mandrill-webhook-key-example", "https://example.com/webhooks/mandrill"
	v, err := newMandrill(mandrillSource(secret, u))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(signed string) string {
		return base64.StdEncoding.EncodeToString(macSum(sha1.New, []byte(secret), []byte(u+signed)))
	}
	tests := []struct {
		name, body, sig string
		want            string // error text; "" when accepted
	}{
		{"fields sorted by name", "b=2&a=1", sign("a1b2"), ""},
		{"decoded values", "a=%5B%5D+x", sign("a[] x"), ""},
		{"repeated field", "mandrill_events=%5B%5D&mandrill_events=%5B1%5D", sign("mandrill_events[]mandrill_events[1]"), `form field "mandrill_events" is repeated`},
		{"not a form", "a=%zz", sign("a"), "body is not a form"},
		{"semicolon", "a=1;b=2", sign("a1b2"), "body is not a form"},
		{"unsorted signature", "b=2&a=1", sign("b2a1"), "does not match the URL and form fields"},
		{"raw body signed", "a=1", sign("a=1"), "does not match"},
		{"not base64", "a=1", "###", "is not a base64 HMAC-SHA1"},
		{"missing", "a=1", "", "missing X-Mandrill-Signature header"},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.sig != "" {
			h.Set(mandrillSigHeader, tt.sig)
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

func TestMandrillNewAndSign(t *testing.T) {
	for _, tt := range []struct {
		url, want string
	}{
		{"", "notification_url: required for provider mandrill"},
		{"/relative", "notification_url: must be an absolute"},
		{"ftp://example.com/x", "notification_url: must be an absolute"},
	} {
		_, err := newMandrill(mandrillSource("k", tt.url))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("url %q: %v, want %q", tt.url, err, tt.want)
		}
	}
	ext := vectorExts(t)
	vec := findVector(t, "mandrill-computed-1")
	h, err := signMandrill(vec.Secret, []byte(vec.Body), SignOptions{URL: ext[vec.ID].NotificationURL})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get(mandrillSigHeader), vec.Headers["X-Mandrill-Signature"]; got != want {
		t.Errorf("signature %q, want the vector's %q", got, want)
	}
	for _, o := range []struct {
		body string
		url  string
	}{{"a=1", ""}, {"a=%zz", "https://x.example/"}, {"a=1&a=2", "https://x.example/"}} {
		if _, err := signMandrill("k", []byte(o.body), SignOptions{URL: o.url}); err == nil {
			t.Errorf("signed body %q for URL %q", o.body, o.url)
		}
	}
}

// FuzzMandrillSignature: no panic, and only the HMAC of the URL and the
// sorted fields of a form without repeated names is accepted.
func FuzzMandrillSignature(f *testing.F) {
	const secret, u = "mandrill-webhook-key-example", "https://example.com/webhooks/mandrill"
	for _, v := range loadVectors(f) {
		if v.Provider == "mandrill" {
			f.Add(v.Headers["X-Mandrill-Signature"], []byte(v.Body))
		}
	}
	ver, err := newMandrill(mandrillSource(secret, u))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		h := http.Header{}
		h.Set(mandrillSigHeader, sig)
		_, err := ver.Verify(&Request{Header: h, Body: body})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		form, perr := url.ParseQuery(string(body))
		if perr != nil {
			t.Fatalf("accepted a body that is not a form: %v", perr)
		}
		signed := u
		keys := make([]string, 0, len(form))
		for k := range form {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if len(form[k]) != 1 {
				t.Fatalf("accepted repeated field %q", k)
			}
			signed += k + form[k][0]
		}
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(signed))
		if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
			t.Fatalf("accepted %q, want %s", sig, want)
		}
	})
}
