package verify

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hookyard/hookyard/internal/config"
)

// Mandrill (Mailchimp Transactional) sends X-Mandrill-Signature: base64
// HMAC-SHA1, keyed with the webhook's key, of the webhook URL exactly as
// registered followed by each POST field's name and value (URL-decoded),
// fields sorted by name. The URL is the source's notification_url
// (Request.URL overrides it when the caller sets one); behind a proxy the
// request's own URL differs, so it is never reconstructed.
//
// The body is a form holding one field, mandrill_events, a JSON array. A
// repeated field is rejected: Mandrill's reference (PHP) keeps the last
// value, Go's url.Values.Get the first, so a duplicate could carry unsigned
// events past the check to a consumer. Mandrill posts mandrill_events=[]
// when a webhook is added; that empty batch is answered as a handshake and
// not stored. The topic is the events' "event" when all share it; the dedup
// key is the body hash (each event has an _id, a batch has none).
const mandrillSigHeader = "X-Mandrill-Signature"

var mandrillProvider = Provider{
	Name: "mandrill",
	JSON: false,
	New:  newMandrill,
	Sign: signMandrill,
}

type mandrill struct {
	keys []*macKey
	url  string
}

// requireURL checks a URL-bound source's notification_url.
func requireURL(src config.Source) (string, error) {
	if src.NotificationURL == "" {
		return "", errors.New("notification_url: required for provider " + src.Provider + " (the URL exactly as registered at the provider)")
	}
	u, err := url.Parse(src.NotificationURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("notification_url: must be an absolute http:// or https:// URL with a host")
	}
	return src.NotificationURL, nil
}

func newMandrill(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	u, err := requireURL(src)
	if err != nil {
		return nil, err
	}
	return &mandrill{keys: newMACKeys(sha1.New, src.Secrets), url: u}, nil
}

func (v *mandrill) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(mandrillSigHeader)
	if sig == "" {
		return Result{}, badSignature("missing %s header", mandrillSigHeader)
	}
	var got [sha1.Size]byte
	if !decodeSig(got[:], sig, encBase64) {
		return Result{}, badSignature("%s is not a base64 HMAC-SHA1", mandrillSigHeader)
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return Result{}, badSignature("body is not a form (application/x-www-form-urlencoded): %v", err)
	}
	var signed []byte
	for _, k := range slices.Sorted(maps.Keys(form)) {
		vals := form[k]
		if len(vals) > 1 {
			return Result{}, badSignature("form field %q is repeated", clip(k))
		}
		signed = append(append(signed, k...), vals[0]...)
	}
	u := cmp.Or(r.URL, v.url)
	idx := -1
	for i, k := range v.keys {
		var want [sha1.Size]byte
		if hmac.Equal(k.sum(want[:], []byte(u), signed, nil), got[:]) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return Result{}, badSignature("%s does not match the URL and form fields", mandrillSigHeader)
	}
	events := []byte(form.Get("mandrill_events"))
	if isEmptyArray(events) {
		return Result{SecretIndex: idx, Handshake: &Handshake{}}, nil
	}
	return Result{SecretIndex: idx, Topic: batchField(events, "event")}, nil
}

// signMandrill signs a form body (mandrill_events=<JSON array>) for o.URL.
// Mandrill's events carry their own type and id, so o.Topic and o.ID are
// not used.
func signMandrill(secret string, body []byte, o SignOptions) (http.Header, error) {
	if o.URL == "" {
		return nil, errors.New("mandrill: the webhook URL is signed, so it is required")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("mandrill: the body must be a form, mandrill_events=<URL-encoded JSON array>")
	}
	var signed strings.Builder
	signed.WriteString(o.URL)
	for _, k := range slices.Sorted(maps.Keys(form)) {
		if len(form[k]) > 1 {
			return nil, fmt.Errorf("mandrill: form field %q is repeated", k)
		}
		signed.WriteString(k)
		signed.WriteString(form[k][0])
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set(mandrillSigHeader, base64.StdEncoding.EncodeToString(macSum(sha1.New, []byte(secret), []byte(signed.String()))))
	return h, nil
}
