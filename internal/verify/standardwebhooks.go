package verify

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Standard Webhooks (also Svix, ShipBob, BigCommerce) send webhook-id,
// webhook-timestamp and webhook-signature, a space-separated list of
// "<version>,<base64>" entries; one match suffices and unknown versions are
// ignored. Both versions sign "<id>.<timestamp>.<body>":
//
//   - v1: HMAC-SHA256, keyed with the base64-decoded part of a whsec_ secret;
//   - v1a: Ed25519, checked with a whpk_ public key (base64, 32 bytes).
//
// Svix's svix-id, svix-timestamp and svix-signature carry the same scheme
// and are read when webhook-signature is absent. The timestamp must lie
// within the window in both directions, as the reference libraries check.
const (
	swSecretPrefix  = "whsec_"
	swPublicPrefix  = "whpk_"
	swPrivatePrefix = "whsk_"
)

// swHeaders is one spelling of the three headers (canonical form, so
// http.Header.Get does not re-canonicalise them per request).
type swHeaders struct{ id, timestamp, signature string }

var (
	swStandard = swHeaders{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}
	swSvix     = swHeaders{"Svix-Id", "Svix-Timestamp", "Svix-Signature"}
)

var standardWebhooksProvider = Provider{
	Name: "standard-webhooks",
	JSON: true,
	New:  newStandardWebhooks,
	Sign: signStandardWebhooks,
}

type standardWebhooks struct {
	keys     []swKey // one per configured secret, in order
	versions string  // the versions the keys can check, for error messages
	tol      time.Duration
	msgs     sync.Pool // of *[]byte: "<id>.<ts>.<body>" for Ed25519
}

// swKey is one configured secret: an HMAC key (whsec_) or an Ed25519 public
// key (whpk_).
type swKey struct {
	mac *macKey
	pub ed25519.PublicKey
}

func newStandardWebhooks(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	tol, err := tolerance(src)
	if err != nil {
		return nil, err
	}
	v := &standardWebhooks{keys: make([]swKey, len(src.Secrets)), tol: tol}
	v.msgs.New = func() any { return new([]byte) }
	var hasV1, hasV1a bool
	for i, s := range src.Secrets {
		switch {
		case strings.HasPrefix(s, swSecretPrefix):
			key, ok := decodeKey(s[len(swSecretPrefix):])
			if !ok || len(key) == 0 {
				return nil, fmt.Errorf("secrets[%d]: the part after %s is not base64", i, swSecretPrefix)
			}
			v.keys[i].mac = newMACKey(sha256.New, key)
			hasV1 = true
		case strings.HasPrefix(s, swPublicPrefix):
			key, ok := decodeKey(s[len(swPublicPrefix):])
			if !ok || len(key) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("secrets[%d]: the part after %s is not a base64 Ed25519 public key (%d bytes)",
					i, swPublicPrefix, ed25519.PublicKeySize)
			}
			v.keys[i].pub = ed25519.PublicKey(key)
			hasV1a = true
		case strings.HasPrefix(s, swPrivatePrefix):
			return nil, fmt.Errorf("secrets[%d]: %s is a private signing key; configure its public key (%s…) instead",
				i, swPrivatePrefix, swPublicPrefix)
		default:
			return nil, fmt.Errorf("secrets[%d]: want %s<base64> (HMAC) or %s<base64> (Ed25519 public key); "+
				"a raw client secret (BigCommerce) is written as %s followed by its base64", i, swSecretPrefix, swPublicPrefix, swSecretPrefix)
		}
	}
	switch {
	case hasV1 && hasV1a:
		v.versions = "v1 or v1a"
	case hasV1:
		v.versions = "v1"
	default:
		v.versions = "v1a"
	}
	return v, nil
}

// decodeKey decodes base64 with or without padding.
func decodeKey(s string) ([]byte, bool) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	return b, err == nil
}

func (v *standardWebhooks) Verify(r *Request) (Result, error) {
	hs := swStandard
	sig := r.Header.Get(hs.signature)
	if sig == "" {
		hs = swSvix
		sig = r.Header.Get(hs.signature)
	}
	if sig == "" {
		return Result{}, badSignature("missing webhook-signature (or svix-signature) header")
	}
	id := r.Header.Get(hs.id)
	if id == "" {
		return Result{}, badSignature("missing %s header", strings.ToLower(hs.id))
	}
	t := r.Header.Get(hs.timestamp)
	if t == "" {
		return Result{}, badSignature("missing %s header", strings.ToLower(hs.timestamp))
	}
	ts, err := parseUnix(strings.ToLower(hs.timestamp), t)
	if err != nil {
		return Result{}, err
	}
	if err := checkTimestamp(ts, r.Now, v.tol); err != nil {
		return Result{}, err
	}

	var hb [128]byte
	head := append(append(append(append(hb[:0], id...), '.'), t...), '.')
	var msg *[]byte // built on first Ed25519 key
	idx := -1
	for i, k := range v.keys {
		var ok bool
		if k.mac != nil {
			var want [sha256.Size]byte
			ok = swMatchV1(sig, k.mac.sum(want[:], head, r.Body, nil))
		} else {
			if msg == nil {
				msg = v.msgs.Get().(*[]byte)
				*msg = append(append((*msg)[:0], head...), r.Body...)
			}
			ok = swMatchV1a(sig, k.pub, *msg)
		}
		if ok {
			idx = i
			break
		}
	}
	if msg != nil {
		v.msgs.Put(msg)
	}
	if idx < 0 {
		return Result{}, badSignature("no %s signature matched", v.versions)
	}

	return Result{SecretIndex: idx, Topic: scanEvent(r.Body).Type, DeliveryID: id, Timestamp: time.Unix(ts, 0)}, nil
}

func swMatchV1(list string, mac []byte) bool {
	for rest := list; rest != ""; {
		var entry string
		entry, rest, _ = strings.Cut(rest, " ")
		sig, ok := strings.CutPrefix(entry, "v1,")
		var got [sha256.Size]byte
		if ok && decodeSig(got[:], sig, encBase64) && hmac.Equal(got[:], mac) {
			return true
		}
	}
	return false
}

func swMatchV1a(list string, pub ed25519.PublicKey, msg []byte) bool {
	for rest := list; rest != ""; {
		var entry string
		entry, rest, _ = strings.Cut(rest, " ")
		sig, ok := strings.CutPrefix(entry, "v1a,")
		var got [ed25519.SignatureSize]byte
		if ok && decodeSig(got[:], sig, encBase64) && ed25519.Verify(pub, msg, got[:]) {
			return true
		}
	}
	return false
}

// signStandardWebhooks signs with a whsec_ secret (v1) or a whsk_ Ed25519
// private key (v1a, a base64 32-byte seed or 64-byte key). The event type
// travels in the body, so o.Topic is not used.
func signStandardWebhooks(secret string, body []byte, o SignOptions) (http.Header, error) {
	id := o.ID
	if id == "" {
		id = "msg_" + rand.Text()
	}
	t := strconv.FormatInt(signTime(o).Unix(), 10)
	content := make([]byte, 0, len(id)+len(t)+2+len(body))
	content = append(append(append(append(append(content, id...), '.'), t...), '.'), body...)

	var sig string
	switch {
	case strings.HasPrefix(secret, swSecretPrefix):
		key, ok := decodeKey(secret[len(swSecretPrefix):])
		if !ok || len(key) == 0 {
			return nil, fmt.Errorf("standard-webhooks: the part after %s is not base64", swSecretPrefix)
		}
		sig = "v1," + base64.StdEncoding.EncodeToString(macSum(sha256.New, key, content))
	case strings.HasPrefix(secret, swPrivatePrefix):
		key, _ := decodeKey(secret[len(swPrivatePrefix):])
		var priv ed25519.PrivateKey
		switch len(key) {
		case ed25519.SeedSize:
			priv = ed25519.NewKeyFromSeed(key)
		case ed25519.PrivateKeySize:
			priv = ed25519.PrivateKey(key)
		default:
			return nil, fmt.Errorf("standard-webhooks: the part after %s is not a base64 Ed25519 seed (%d bytes) or private key (%d bytes)",
				swPrivatePrefix, ed25519.SeedSize, ed25519.PrivateKeySize)
		}
		sig = "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, content))
	case strings.HasPrefix(secret, swPublicPrefix):
		return nil, fmt.Errorf("standard-webhooks: cannot sign with a public key (%s); use the signing key (%s)", swPublicPrefix, swPrivatePrefix)
	default:
		return nil, fmt.Errorf("standard-webhooks: want a %s or %s secret", swSecretPrefix, swPrivatePrefix)
	}
	h := http.Header{}
	h.Set(swStandard.id, id)
	h.Set(swStandard.timestamp, t)
	h.Set(swStandard.signature, sig)
	return h, nil
}
