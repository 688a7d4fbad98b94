package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// testAdyenKeys are two HMAC keys as Adyen's Customer Area shows them.
var testAdyenKeys = []string{
	"DFB1EB5485895CFA84146406857104ABB4CBCABDC8AAF103A624C8F6A3EAAB00",
	"44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
}

// adyenBody is an unsigned notification of about size bytes with one item:
// pspReference testID, eventCode testTopic, eventDate testNow.
func adyenBody(size int) []byte {
	b := fmt.Appendf(nil, `{"live":"false","notificationItems":[{"NotificationRequestItem":{`+
		`"additionalData":{"hmacSignature":""},"amount":{"currency":"EUR","value":1000},"eventCode":%q,`+
		`"eventDate":%q,"merchantAccountCode":"HookyardECOM","merchantReference":"order-1",`+
		`"pspReference":%q,"success":"true","reason":"`, testTopic, testNow.UTC().Format(time.RFC3339), testID)
	for len(b) < size-5 {
		b = append(b, 'x')
	}
	return append(b, `"}}]}`...)
}

func TestAdyenVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("adyen"), v.Provider == "adyen"
	})
	if n != 4 {
		t.Fatalf("ran %d adyen vectors, want 4", n)
	}
}

func TestAdyenResult(t *testing.T) {
	vec := findVector(t, "adyen-official-go")
	v, err := newAdyen(vec.source("adyen"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "EVENT", DeliveryID: "pspReference:EVENT:true", Timestamp: time.Unix(0, 0)}
	checkResult(t, res, want)
	// Unsigned fields are not covered, exactly as Adyen's scheme says.
	r := vec.request()
	r.Body = []byte(strings.Replace(vec.Body, `"reason":"reason"`, `"reason":"changed"`, 1))
	if _, err := v.Verify(r); err != nil {
		t.Errorf("changed unsigned field: %v (Adyen signs eight fields only)", err)
	}
}

// adyenItemJSON is one signed NotificationRequestItem.
func adyenItemJSON(key, psp, event string) string {
	k, _ := hex.DecodeString(key)
	sig := base64.StdEncoding.EncodeToString(macSum(sha256.New, k, []byte(psp+"::M:R:5:EUR:"+event+":true")))
	return fmt.Sprintf(`{"NotificationRequestItem":{"additionalData":{"hmacSignature":%q},"amount":{"value":5,"currency":"EUR"},`+
		`"eventCode":%q,"merchantAccountCode":"M","merchantReference":"R","pspReference":%q,"success":"true"}}`, sig, event, psp)
}

func TestAdyenItems(t *testing.T) {
	k0, k1 := testAdyenKeys[0], testAdyenKeys[1]
	v, err := newAdyen(config.Source{Secrets: []string{k0, k1}})
	if err != nil {
		t.Fatal(err)
	}
	notify := func(items ...string) []byte {
		return []byte(`{"live":"false","notificationItems":[` + strings.Join(items, ",") + `]}`)
	}
	tests := []struct {
		name  string
		body  []byte
		want  string // error text; "" when accepted
		res   Result
		index int
	}{
		{"two items, one key", notify(adyenItemJSON(k1, "P1", "AUTHORISATION"), adyenItemJSON(k1, "P2", "AUTHORISATION")), "",
			Result{Topic: "AUTHORISATION", DeliveryID: "P1:AUTHORISATION:true,P2:AUTHORISATION:true"}, 1},
		{"two event codes", notify(adyenItemJSON(k0, "P1", "AUTHORISATION"), adyenItemJSON(k0, "P1", "CAPTURE")), "",
			Result{DeliveryID: "P1:AUTHORISATION:true,P1:CAPTURE:true"}, 0},
		{"second item forged", notify(adyenItemJSON(k0, "P1", "AUTHORISATION"), strings.Replace(adyenItemJSON(k0, "P2", "CAPTURE"), `"value":5`, `"value":6`, 1)),
			"the hmacSignature of notificationItems[1] does not match its fields", Result{}, 0},
		{"items from two keys", notify(adyenItemJSON(k0, "P1", "AUTHORISATION"), adyenItemJSON(k1, "P2", "AUTHORISATION")),
			"does not match its fields", Result{}, 0},
		{"no items", notify(), "notificationItems is empty or not a list", Result{}, 0},
		{"no list", []byte(`{"live":"false"}`), "body has no notificationItems", Result{}, 0},
		{"not an item", notify(`{"Other":{}}`), "notificationItems[0] has no NotificationRequestItem", Result{}, 0},
		{"unsigned item", notify(`{"NotificationRequestItem":{"pspReference":"P"}}`), "notificationItems[0] has no additionalData.hmacSignature", Result{}, 0},
		{"bad base64", notify(`{"NotificationRequestItem":{"additionalData":{"hmacSignature":"!!"}}}`), "is not a base64 HMAC-SHA256", Result{}, 0},
		{"not JSON", []byte("notificationItems"), "body has no notificationItems", Result{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := v.Verify(&Request{Header: http.Header{}, Body: tt.body})
			if tt.want != "" {
				if !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("%v, want ErrBadSignature %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.res.SecretIndex = tt.index
			if res != tt.res {
				t.Errorf("Result = %+v, want %+v", res, tt.res)
			}
		})
	}
}

func TestAdyenBasicAuth(t *testing.T) {
	vec := findVector(t, "adyen-official-go")
	src := vec.source("adyen")
	src.BasicAuth = &config.BasicAuth{Username: "adyen", Password: "s3cret-pass"}
	v, err := newAdyen(src)
	if err != nil {
		t.Fatal(err)
	}
	basicHeader := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name, auth, want string
	}{
		{"right", basicHeader("adyen", "s3cret-pass"), ""},
		{"scheme case", "basic " + base64.StdEncoding.EncodeToString([]byte("adyen:s3cret-pass")), ""},
		{"missing", "", "missing Authorization header"},
		{"wrong password", basicHeader("adyen", "s3cret-pas"), "credentials do not match"},
		{"wrong user", basicHeader("Adyen", "s3cret-pass"), "credentials do not match"},
		{"bearer", "Bearer s3cret-pass", "is not HTTP Basic"},
	}
	for _, tt := range tests {
		r := vec.request()
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		_, err := v.Verify(r)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want ErrBadSignature %q", tt.name, err, tt.want)
		case err != nil:
			assertNoSecret(t, err, "s3cret-pass")
		}
	}
	// Right credentials do not excuse a tampered item.
	r := vec.request()
	r.Header.Set("Authorization", basicHeader("adyen", "s3cret-pass"))
	r.Body = []byte(strings.Replace(vec.Body, `"value":1000`, `"value":1001`, 1))
	if _, err := v.Verify(r); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("tampered with credentials: %v", err)
	}

	for _, b := range []*config.BasicAuth{{Username: "", Password: "p"}, {Username: "a:b", Password: "p"}, {Username: "u"}} {
		src.BasicAuth = b
		if _, err := newAdyen(src); err == nil || !strings.HasPrefix(err.Error(), "basic_auth.") {
			t.Errorf("basic_auth %+v: %v, want an error naming basic_auth", b, err)
		}
	}
}

func TestAdyenNew(t *testing.T) {
	for _, secret := range []string{"not-hex", "ABC"} {
		_, err := newAdyen(config.Source{Secrets: []string{testAdyenKeys[0], secret}})
		if err == nil || !strings.HasPrefix(err.Error(), "secrets[1]: an Adyen HMAC key is hexadecimal") {
			t.Errorf("%q: %v", secret, err)
		}
	}
}

func TestAdyenSignBody(t *testing.T) {
	// Re-signing the official vector's body reproduces its signature.
	vec := findVector(t, "adyen-official-php")
	body, _, err := signAdyenBody(vec.Secret, []byte(vec.Body), SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		NotificationItems []struct {
			NotificationRequestItem struct {
				AdditionalData map[string]string `json:"additionalData"`
			}
		} `json:"notificationItems"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.NotificationItems[0].NotificationRequestItem.AdditionalData["hmacSignature"]; got != "Ny9gS2veKo5E4w8/OL6xz1/wvT/hYkAXy1xNc/QvO4I=" {
		t.Errorf("hmacSignature %q", got)
	}
	// Items without additionalData get one.
	body, _, err = signAdyenBody(testAdyenKeys[0], []byte(`{"notificationItems":[{"NotificationRequestItem":{"pspReference":"P","success":true}}]}`), SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := newAdyen(config.Source{Secrets: testAdyenKeys[:1]})
	if res, err := v.Verify(&Request{Body: body, Header: http.Header{}}); err != nil || res.DeliveryID != "P::true" {
		t.Errorf("signed %s: %+v, %v", body, res, err)
	}
	for _, bad := range []string{`[]`, `{"notificationItems":[]}`, `{"notificationItems":[{}]}`} {
		if _, _, err := signAdyenBody(testAdyenKeys[0], []byte(bad), SignOptions{}); err == nil {
			t.Errorf("signed %s", bad)
		}
	}
	if _, err := signAdyen(testAdyenKeys[0], nil, SignOptions{}); err == nil {
		t.Error("Sign did not point to SignBody")
	}
}

// FuzzAdyenSignature feeds arbitrary notification bodies: no panic, and an
// accepted body's every item carries the HMAC of its signed fields, as
// encoding/json reads them.
func FuzzAdyenSignature(f *testing.F) {
	key := testAdyenKeys[0]
	for _, v := range loadVectors(f) {
		if v.Provider == "adyen" {
			f.Add([]byte(v.Body))
		}
	}
	f.Add([]byte(`{"notificationItems":[` + adyenItemJSON(key, "P1", "AUTHORISATION") + `]}`))
	ver, err := newAdyen(config.Source{Secrets: []string{key}})
	if err != nil {
		f.Fatal(err)
	}
	k, _ := hex.DecodeString(key)
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := ver.Verify(&Request{Header: http.Header{}, Body: body})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		if !json.Valid(body) {
			return // the scanner reads what it can of broken JSON; ingest rejects it
		}
		var doc struct {
			Items []struct {
				Item map[string]json.RawMessage `json:"NotificationRequestItem"`
			} `json:"notificationItems"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || len(doc.Items) == 0 {
			t.Fatalf("accepted %q, which encoding/json does not read as a notification (%v)", body, err)
		}
		for i, it := range doc.Items {
			var amount map[string]json.RawMessage
			_ = json.Unmarshal(it.Item["amount"], &amount)
			var extra map[string]json.RawMessage
			_ = json.Unmarshal(it.Item["additionalData"], &extra)
			fields := []json.RawMessage{it.Item["pspReference"], it.Item["originalReference"], it.Item["merchantAccountCode"],
				it.Item["merchantReference"], amount["value"], amount["currency"], it.Item["eventCode"], it.Item["success"]}
			var parts []string
			for _, raw := range fields {
				parts = append(parts, adyenValue(raw))
			}
			m := hmac.New(sha256.New, k)
			m.Write([]byte(strings.Join(parts, ":")))
			var sig string
			_ = json.Unmarshal(extra["hmacSignature"], &sig)
			if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
				t.Fatalf("accepted item %d with %q, want %q", i, sig, want)
			}
		}
	})
}
