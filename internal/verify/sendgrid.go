package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// SendGrid's signed Event Webhook sends X-Twilio-Email-Event-Webhook-
// Signature, a base64 DER ECDSA P-256 signature of SHA-256 over the
// X-Twilio-Email-Event-Webhook-Timestamp value followed by the raw body
// (which ends in CRLF: never trim it). A source's secrets are the public
// keys from SendGrid's Mail Settings, base64 DER SubjectPublicKeyInfo as
// SendGrid shows them (PEM is read too); there is no shared secret.
//
// SendGrid signs the timestamp but documents no window, and its retries
// for up to a day may keep the first one, so the window is enforced only
// when the source sets a tolerance. A body batches events in a JSON array;
// each has an sg_event_id but the batch has none, so the dedup key is the
// body hash. The topic is the events' "event" when all share it.
const (
	sendgridSigHeader = "X-Twilio-Email-Event-Webhook-Signature"
	sendgridTSHeader  = "X-Twilio-Email-Event-Webhook-Timestamp"
)

var sendgridProvider = Provider{
	Name: "sendgrid",
	JSON: true,
	New:  newSendGrid,
	Sign: signSendGrid,
}

type sendgrid struct {
	keys []*ecdsa.PublicKey
	tol  time.Duration // 0: no window
}

func newSendGrid(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	tol, err := toleranceOr(src, 0)
	if err != nil {
		return nil, err
	}
	v := &sendgrid{tol: tol}
	for i, s := range src.Secrets {
		k, err := parseP256Public(s)
		if err != nil {
			return nil, fmt.Errorf("secrets[%d]: %w", i, err)
		}
		v.keys = append(v.keys, k)
	}
	return v, nil
}

// keyDER returns the DER bytes of a PEM block or of base64 text.
func keyDER(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		b, _ := pem.Decode([]byte(s))
		if b == nil {
			return nil, false
		}
		return b.Bytes, true
	}
	der, err := base64.StdEncoding.DecodeString(s)
	return der, err == nil
}

func parseP256Public(s string) (*ecdsa.PublicKey, error) {
	der, ok := keyDER(s)
	if !ok {
		return nil, errors.New("want the verification key as base64 DER (as SendGrid shows it) or PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not a public key (SubjectPublicKeyInfo); is it the verification key from Mail Settings?")
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 public key")
	}
	return k, nil
}

func (v *sendgrid) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(sendgridSigHeader)
	if sig == "" {
		return Result{}, badSignature("missing %s header", sendgridSigHeader)
	}
	t := r.Header.Get(sendgridTSHeader)
	if t == "" {
		return Result{}, badSignature("missing %s header", sendgridTSHeader)
	}
	ts, err := parseUnix(sendgridTSHeader, t)
	if err != nil {
		return Result{}, err
	}
	// A DER P-256 signature is at most 72 bytes.
	var der [72]byte
	if len(sig) > base64.StdEncoding.EncodedLen(len(der)) {
		return Result{}, badSignature("%s is too long for an ECDSA P-256 signature", sendgridSigHeader)
	}
	raw, err := decodeCanonicalBase64(sig)
	n := copy(der[:], raw)
	if err != nil || n != len(raw) {
		return Result{}, badSignature("%s is not a base64 ECDSA signature", sendgridSigHeader)
	}
	if v.tol > 0 {
		if err := checkTimestamp(ts, r.Now, v.tol); err != nil {
			return Result{}, err
		}
	}
	h := sha256.New()
	h.Write([]byte(t))
	h.Write(r.Body)
	var sum [sha256.Size]byte
	digest := h.Sum(sum[:0])
	for i, k := range v.keys {
		if ecdsa.VerifyASN1(k, digest, der[:n]) {
			return Result{SecretIndex: i, Topic: batchField(r.Body, "event"), Timestamp: time.Unix(ts, 0)}, nil
		}
	}
	return Result{}, badSignature("%s does not match the timestamp and body", sendgridSigHeader)
}

// signSendGrid signs with an ECDSA P-256 private key, base64 DER (PKCS #8
// or SEC 1) or PEM. The events carry their own type and ids, so o.Topic and
// o.ID are not used.
func signSendGrid(secret string, body []byte, o SignOptions) (http.Header, error) {
	der, ok := keyDER(secret)
	if !ok {
		return nil, errors.New("sendgrid: want an ECDSA P-256 private key, base64 DER or PEM")
	}
	var priv *ecdsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		priv, _ = k.(*ecdsa.PrivateKey)
	} else if k, err := x509.ParseECPrivateKey(der); err == nil {
		priv = k
	}
	if priv == nil || priv.Curve != elliptic.P256() {
		return nil, errors.New("sendgrid: not an ECDSA P-256 private key (PKCS #8 or SEC 1)")
	}
	t := strconv.FormatInt(signTime(o).Unix(), 10)
	digest := sha256.Sum256(append([]byte(t), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		return nil, fmt.Errorf("sendgrid: %w", err)
	}
	h := http.Header{}
	h.Set(sendgridTSHeader, t)
	h.Set(sendgridSigHeader, base64.StdEncoding.EncodeToString(sig))
	return h, nil
}
