package verify

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hookyard/hookyard/internal/config"
)

// Twilio sends X-Twilio-Signature: base64 HMAC-SHA1, keyed with the account
// auth token, of the full URL Twilio requested followed by every POST
// parameter's name and value (URL-decoded), names sorted, each name's
// values sorted with duplicates dropped, as twilio-python's validator does.
// The URL is the source's notification_url (Request.URL overrides it when
// the caller sets one). Twilio's validators try the URL with and without the
// scheme's default port, and so does hookyard.
//
// JSON bodies are signed differently: Twilio appends
// bodySHA256=<hex SHA-256 of the body> to the URL's query and signs the URL
// alone. A notification_url without bodySHA256 gets the hash of the body at
// hand appended, so the signature covers the body; one that already holds
// it (the full URL of one request) must match the body. A body is JSON when
// the URL holds bodySHA256, or the Content-Type says JSON, or (with no form
// Content-Type) it starts with { or [.
//
// Twilio joins names and values with no separator, so the signature does not
// fix where one form field ends and the next begins ({a: "bc"} and
// {ab: "c"} sign alike); that is Twilio's scheme, not a check hookyard can
// add. The dedup key is I-Twilio-Idempotency-Token when sent; the topic is
// the EventType parameter (Conversations, TaskRouter) or a JSON body's type.
// Twilio signs no timestamp.
const (
	twilioSigHeader   = "X-Twilio-Signature"
	twilioIdemHeader  = "I-Twilio-Idempotency-Token"
	twilioBodyHashKey = "bodySHA256"
)

var twilioProvider = Provider{
	Name: "twilio",
	JSON: false,
	New:  newTwilio,
	Sign: signTwilio,
}

type twilio struct {
	keys []*macKey
	url  twilioURL
}

// twilioURL is a notification URL prepared for signing.
type twilioURL struct {
	raw      string
	variants []string // raw, and raw with the default port added or removed
	bodyHash string   // the bodySHA256 query value, if any
}

func parseTwilioURL(raw string) twilioURL {
	t := twilioURL{raw: raw, variants: []string{raw}}
	u, err := url.Parse(raw)
	if err != nil {
		return t
	}
	if q, err := url.ParseQuery(u.RawQuery); err == nil {
		t.bodyHash = q.Get(twilioBodyHashKey)
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	i := strings.Index(raw, "://")
	if def == "" || i < 0 {
		return t
	}
	start := i + len("://")
	end := len(raw)
	if j := strings.IndexAny(raw[start:], "/?#"); j >= 0 {
		end = start + j
	}
	if strings.HasSuffix(raw[start:end], ":") {
		return t
	}
	switch p := u.Port(); p {
	case "":
		t.variants = append(t.variants, raw[:end]+":"+def+raw[end:])
	case def:
		t.variants = append(t.variants, raw[:end-len(p)-1]+raw[end:])
	}
	return t
}

func newTwilio(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	u, err := requireURL(src)
	if err != nil {
		return nil, err
	}
	return &twilio{keys: newMACKeys(sha1.New, src.Secrets), url: parseTwilioURL(u)}, nil
}

func (v *twilio) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(twilioSigHeader)
	if sig == "" {
		return Result{}, badSignature("missing %s header", twilioSigHeader)
	}
	var got [sha1.Size]byte
	if !decodeSig(got[:], sig, encBase64) {
		return Result{}, badSignature("%s is not a base64 HMAC-SHA1", twilioSigHeader)
	}
	tu := v.url
	if r.URL != "" && r.URL != tu.raw {
		tu = parseTwilioURL(r.URL)
	}

	var res Result
	urls := tu.variants
	var params []byte
	var bodySum [sha256.Size]byte
	isJSON := tu.bodyHash != "" || twilioJSON(r)
	if isJSON {
		bodySum = sha256.Sum256(r.Body)
		if tu.bodyHash == "" {
			tail := twilioBodyHashKey + "=" + hex.EncodeToString(bodySum[:])
			urls = make([]string, len(tu.variants))
			for i, u := range tu.variants {
				sep := "?"
				if strings.Contains(u, "?") {
					sep = "&"
				}
				urls[i] = u + sep + tail
			}
		}
		res.Topic = scanEvent(r.Body).Type
	} else {
		form, err := url.ParseQuery(string(r.Body))
		if err != nil {
			return Result{}, badSignature("body is neither JSON nor a form: %v", err)
		}
		params = twilioParams(form)
		res.Topic = form.Get("EventType")
	}

	res.SecretIndex = -1
keys:
	for i, k := range v.keys {
		for _, u := range urls {
			var want [sha1.Size]byte
			if hmac.Equal(k.sum(want[:], []byte(u), params, nil), got[:]) {
				res.SecretIndex = i
				break keys
			}
		}
	}
	if res.SecretIndex < 0 {
		return Result{}, badSignature("%s does not match the URL and parameters", twilioSigHeader)
	}
	if isJSON && tu.bodyHash != "" {
		var want [sha256.Size]byte
		if !decodeSig(want[:], tu.bodyHash, encHex) || !hmac.Equal(want[:], bodySum[:]) {
			return Result{}, badSignature("body does not match the URL's %s", twilioBodyHashKey)
		}
	}
	res.DeliveryID = r.Header.Get(twilioIdemHeader)
	return res, nil
}

// twilioJSON reports whether a request without bodySHA256 in its URL has a
// JSON body.
func twilioJSON(r *Request) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		switch {
		case mt == "application/x-www-form-urlencoded":
			return false
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			return true
		}
	}
	i := skipSpace(r.Body, 0)
	return i < len(r.Body) && (r.Body[i] == '{' || r.Body[i] == '[')
}

// twilioParams joins a form's names and values as Twilio signs them.
func twilioParams(form url.Values) []byte {
	var b []byte
	for _, k := range slices.Sorted(maps.Keys(form)) {
		vals := slices.Compact(slices.Sorted(slices.Values(form[k])))
		for _, val := range vals {
			b = append(append(b, k...), val...)
		}
	}
	return b
}

// signTwilio signs body for o.URL: a JSON body by the URL with bodySHA256
// appended (the URL Twilio itself would request; hookyard appends the hash
// when verifying, so posting to o.URL works), anything else as a form.
// o.ID is sent as the idempotency token; o.Topic is not used.
func signTwilio(secret string, body []byte, o SignOptions) (http.Header, error) {
	if o.URL == "" {
		return nil, errors.New("twilio: the webhook URL is signed, so it is required")
	}
	h := http.Header{}
	var signed []byte
	if json.Valid(body) {
		sum := sha256.Sum256(body)
		sep := "?"
		if strings.Contains(o.URL, "?") {
			sep = "&"
		}
		signed = []byte(o.URL + sep + twilioBodyHashKey + "=" + hex.EncodeToString(sum[:]))
		h.Set("Content-Type", "application/json")
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errors.New("twilio: the body must be JSON or a form (application/x-www-form-urlencoded)")
		}
		signed = append([]byte(o.URL), twilioParams(form)...)
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	h.Set(twilioSigHeader, base64.StdEncoding.EncodeToString(macSum(sha1.New, []byte(secret), signed)))
	h.Set(twilioIdemHeader, cmp.Or(o.ID, newUUID()))
	return h, nil
}
