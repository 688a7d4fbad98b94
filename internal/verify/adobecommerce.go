package verify

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/hookyard/hookyard/internal/config"
)

// Adobe Commerce webhooks send x-adobe-commerce-webhook-signature: a base64
// RSA PKCS #1 v1.5 SHA-256 signature of the base64 encoding of the raw body
// (not of the body itself). A source's secrets are the public keys Commerce
// generates (Stores > Configuration > Adobe Services > Webhooks), PEM or
// base64 DER SubjectPublicKeyInfo; there is no shared secret. Commerce
// calls webhooks synchronously and signs no timestamp or id: the topic is
// the body's eventName and the dedup key the body hash.
const adobeCommerceSigHeader = "X-Adobe-Commerce-Webhook-Signature"

var adobeCommerceProvider = Provider{
	Name: "adobe-commerce",
	JSON: true,
	New:  newAdobeCommerce,
	Sign: signAdobeCommerce,
}

type adobeCommerce struct {
	keys []*rsa.PublicKey
}

func newAdobeCommerce(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	v := &adobeCommerce{}
	for i, s := range src.Secrets {
		der, ok := keyDER(s)
		if !ok {
			return nil, fmt.Errorf("secrets[%d]: want the webhook public key as PEM or base64 DER", i)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("secrets[%d]: not a public key (-----BEGIN PUBLIC KEY-----)", i)
		}
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("secrets[%d]: not an RSA public key", i)
		}
		v.keys = append(v.keys, k)
	}
	return v, nil
}

// adobeCommerceDigest is SHA-256 of base64(body), encoded as it is hashed.
func adobeCommerceDigest(body []byte) [sha256.Size]byte {
	h := sha256.New()
	enc := base64.NewEncoder(base64.StdEncoding, h)
	enc.Write(body)
	enc.Close()
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func (v *adobeCommerce) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(adobeCommerceSigHeader)
	if sig == "" {
		return Result{}, badSignature("missing %s header", adobeCommerceSigHeader)
	}
	raw, err := decodeCanonicalBase64(sig)
	if len(sig) > 2048 || err != nil { // 2048 characters hold an RSA-8192 signature
		return Result{}, badSignature("%s is not base64", adobeCommerceSigHeader)
	}
	digest := adobeCommerceDigest(r.Body)
	for i, k := range v.keys {
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], raw) == nil {
			return Result{SecretIndex: i, Topic: jsonString(member(r.Body, "eventName"))}, nil
		}
	}
	return Result{}, badSignature("%s does not match the body", adobeCommerceSigHeader)
}

// signAdobeCommerce signs with an RSA private key, PEM or base64 DER
// (PKCS #1 or #8). The event name travels in the body.
func signAdobeCommerce(secret string, body []byte, _ SignOptions) (http.Header, error) {
	der, ok := keyDER(secret)
	if !ok {
		return nil, errors.New("adobe-commerce: want an RSA private key, PEM or base64 DER")
	}
	var priv *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		priv, _ = k.(*rsa.PrivateKey)
	} else if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		priv = k
	}
	if priv == nil {
		return nil, errors.New("adobe-commerce: not an RSA private key (PKCS #1 or #8)")
	}
	digest := adobeCommerceDigest(body)
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
	if err != nil {
		return nil, fmt.Errorf("adobe-commerce: %w", err)
	}
	h := http.Header{}
	h.Set(adobeCommerceSigHeader, base64.StdEncoding.EncodeToString(sig))
	return h, nil
}
