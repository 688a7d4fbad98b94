package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Adyen's standard (payment) webhooks carry their signatures inside the
// body: each NotificationRequestItem of notificationItems has
// additionalData.hmacSignature, the base64 HMAC-SHA256 of eight of its
// fields joined by ':' —
//
//	pspReference:originalReference:merchantAccountCode:merchantReference:amount.value:amount.currency:eventCode:success
//
// (a missing field is empty) — keyed with the hex-decoded HMAC key. Every
// item must verify, with the same key. Only those fields are signed: the
// rest of the JSON (additionalData, reason, paymentMethod…) is not, which is
// why Adyen recommends Basic auth on the endpoint as well; when the source
// sets basic_auth, its credentials are required too, compared as SHA-256
// digests in constant time. Adyen signs no timestamp.
//
// The topic is the items' eventCode when they share one; the dedup key is
// "pspReference:eventCode:success" of each item, joined by ','; the time is
// the first item's eventDate.
//
// The signature is not a header, so Sign cannot express it: SignBody
// returns the body with every item's hmacSignature filled in.
var adyenProvider = Provider{
	Name:     "adyen",
	JSON:     true,
	New:      newAdyen,
	Sign:     signAdyen,
	SignBody: signAdyenBody,
}

type adyen struct {
	keys []*macKey
	auth *basicDigest // nil when the source sets no basic_auth
}

// basicDigest is a Basic auth username and password as SHA-256 digests,
// which compare in constant time whatever their lengths.
type basicDigest struct {
	user, pass [sha256.Size]byte
}

func newAdyen(src config.Source) (Verifier, error) {
	keys, err := adyenKeys(src)
	if err != nil {
		return nil, err
	}
	v := &adyen{keys: keys}
	if b := src.BasicAuth; b != nil {
		switch {
		case b.Username == "" || strings.Contains(b.Username, ":"):
			return nil, errors.New("basic_auth.username: required, without a colon")
		case b.Password == "":
			return nil, errors.New("basic_auth.password: required (is its environment variable set?)")
		}
		v.auth = &basicDigest{user: sha256.Sum256([]byte(b.Username)), pass: sha256.Sum256([]byte(b.Password))}
	}
	return v, nil
}

// adyenKeys decodes a source's hex HMAC keys.
func adyenKeys(src config.Source) ([]*macKey, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	keys := make([]*macKey, len(src.Secrets))
	for i, s := range src.Secrets {
		key, err := adyenKey(s)
		if err != nil {
			return nil, fmt.Errorf("secrets[%d]: %w", i, err)
		}
		keys[i] = newMACKey(sha256.New, key)
	}
	return keys, nil
}

func adyenKey(s string) ([]byte, error) {
	key, err := hex.DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, errors.New("an Adyen HMAC key is hexadecimal (64 characters in the Customer Area)")
	}
	return key, nil
}

// adyenItem is one NotificationRequestItem as the signature sees it.
type adyenItem struct {
	data      []byte // the signed string
	sig       string // additionalData.hmacSignature
	psp       string
	eventCode string
	success   string
	eventDate string
}

func (v *adyen) Verify(r *Request) (Result, error) {
	if v.auth != nil {
		h := r.Header.Get("Authorization")
		if h == "" {
			return Result{}, badSignature("missing Authorization header (this source requires Basic auth)")
		}
		user, pass, ok := parseBasic(h)
		if !ok {
			return Result{}, badSignature("Authorization is not HTTP Basic credentials")
		}
		u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
		// & rather than &&: both comparisons always run.
		if subtle.ConstantTimeCompare(u[:], v.auth.user[:])&subtle.ConstantTimeCompare(p[:], v.auth.pass[:]) != 1 {
			return Result{}, badSignature("Authorization credentials do not match")
		}
	}

	items, err := adyenItems(r.Body)
	if err != nil {
		return Result{}, err
	}
	sigs := make([][sha256.Size]byte, len(items))
	for i, it := range items {
		if it.sig == "" {
			return Result{}, badSignature("notificationItems[%d] has no additionalData.hmacSignature", i)
		}
		if !decodeSig(sigs[i][:], it.sig, encBase64) {
			return Result{}, badSignature("notificationItems[%d].additionalData.hmacSignature is not a base64 HMAC-SHA256", i)
		}
	}
	idx, bad := -1, 0
	for i, k := range v.keys {
		j := 0
		for ; j < len(items); j++ {
			var want [sha256.Size]byte
			if !hmac.Equal(k.sum(want[:], nil, items[j].data, nil), sigs[j][:]) {
				break
			}
		}
		if j == len(items) {
			idx = i
			break
		}
		bad = max(bad, j)
	}
	if idx < 0 {
		return Result{}, badSignature("the hmacSignature of notificationItems[%d] does not match its fields", bad)
	}

	res := Result{SecretIndex: idx, Topic: items[0].eventCode}
	ids := make([]string, len(items))
	for i, it := range items {
		if it.eventCode != res.Topic {
			res.Topic = ""
		}
		ids[i] = it.psp + ":" + it.eventCode + ":" + it.success
	}
	res.DeliveryID = strings.Join(ids, ",")
	res.Timestamp, _ = time.Parse(time.RFC3339Nano, items[0].eventDate) // informational only
	return res, nil
}

// adyenItems reads every NotificationRequestItem of a notification body.
func adyenItems(body []byte) ([]adyenItem, error) {
	list := member(body, "notificationItems")
	if list == nil {
		return nil, badSignature("body has no notificationItems")
	}
	var items []adyenItem
	var err error
	eachElement(list, func(el []byte) bool {
		n := member(el, "NotificationRequestItem")
		if n == nil {
			err = badSignature("notificationItems[%d] has no NotificationRequestItem", len(items))
			return false
		}
		items = append(items, readAdyenItem(n))
		return true
	})
	switch {
	case err != nil:
		return nil, err
	case len(items) == 0:
		return nil, badSignature("notificationItems is empty or not a list")
	}
	return items, nil
}

func readAdyenItem(n []byte) adyenItem {
	var f [8][]byte // the signed fields, in signing order
	var extra, date []byte
	eachMember(n, func(name, val []byte) bool {
		switch string(name) {
		case "pspReference":
			f[0] = val
		case "originalReference":
			f[1] = val
		case "merchantAccountCode":
			f[2] = val
		case "merchantReference":
			f[3] = val
		case "amount":
			f[4], f[5] = member(val, "value"), member(val, "currency")
		case "eventCode":
			f[6] = val
		case "success":
			f[7] = val
		case "additionalData":
			extra = val
		case "eventDate":
			date = val
		}
		return true
	})
	it := adyenItem{sig: jsonString(member(extra, "hmacSignature")), eventDate: jsonString(date)}
	for i, raw := range f {
		if i > 0 {
			it.data = append(it.data, ':')
		}
		it.data = append(it.data, adyenValue(raw)...)
	}
	it.psp, it.eventCode, it.success = adyenValue(f[0]), adyenValue(f[6]), adyenValue(f[7])
	return it
}

// adyenValue is a field as Adyen's libraries write it into the signed
// string: a string's text, a number or boolean as written, else empty.
func adyenValue(raw []byte) string {
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		return jsonString(raw)
	case raw[0] == '{' || raw[0] == '[':
		return ""
	}
	return string(raw)
}

// signAdyen cannot sign: Adyen's signatures travel inside the body.
func signAdyen(string, []byte, SignOptions) (http.Header, error) {
	return nil, errors.New("adyen: the signatures travel inside the body; sign with SignBody")
}

// signAdyenBody returns body, an Adyen notification, with the hmacSignature
// of every item set for the hex key secret. The JSON is re-encoded (keys
// sorted), which the signature does not cover. o is not used.
func signAdyenBody(secret string, body []byte, _ SignOptions) ([]byte, http.Header, error) {
	key, err := adyenKey(secret)
	if err != nil {
		return nil, nil, fmt.Errorf("adyen: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("adyen: the body is not a JSON object: %w", err)
	}
	list, _ := doc["notificationItems"].([]any)
	if len(list) == 0 {
		return nil, nil, errors.New("adyen: the body has no notificationItems")
	}
	for i, el := range list {
		obj, _ := el.(map[string]any)
		item, _ := obj["NotificationRequestItem"].(map[string]any)
		if item == nil {
			return nil, nil, fmt.Errorf("adyen: notificationItems[%d] has no NotificationRequestItem", i)
		}
		amount, _ := item["amount"].(map[string]any)
		fields := []string{
			signValue(item["pspReference"]), signValue(item["originalReference"]),
			signValue(item["merchantAccountCode"]), signValue(item["merchantReference"]),
			signValue(amount["value"]), signValue(amount["currency"]),
			signValue(item["eventCode"]), signValue(item["success"]),
		}
		extra, _ := item["additionalData"].(map[string]any)
		if extra == nil {
			extra = map[string]any{}
			item["additionalData"] = extra
		}
		extra["hmacSignature"] = base64.StdEncoding.EncodeToString(
			macSum(sha256.New, key, []byte(strings.Join(fields, ":"))))
	}
	var out bytes.Buffer
	e := json.NewEncoder(&out)
	e.SetEscapeHTML(false)
	if err := e.Encode(doc); err != nil {
		return nil, nil, fmt.Errorf("adyen: %w", err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), http.Header{"Content-Type": {"application/json"}}, nil
}

// signValue writes a decoded JSON value as adyenValue reads it.
func signValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}
