package verify

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func adobeVectorSource(v vector, ext map[string]vectorExt) config.Source {
	src := v.source("adobe-commerce")
	src.Secrets = []string{ext[v.ID].PublicKeyPEM}
	return src
}

func TestAdobeCommerceVectors(t *testing.T) {
	ext := vectorExts(t)
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return adobeVectorSource(v, ext), v.Provider == "adobe-commerce"
	})
	if n != 4 {
		t.Fatalf("ran %d adobe-commerce vectors, want 4", n)
	}
}

// testRSA returns two RSA-2048 key pairs: PEM PKCS #8 private keys and PEM
// public keys, as Commerce shows them.
var testRSA = sync.OnceValue(func() keyPairs {
	var kp keyPairs
	for range 2 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		priv, _ := x509.MarshalPKCS8PrivateKey(k)
		pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		kp.priv = append(kp.priv, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})))
		kp.pub = append(kp.pub, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))
	}
	return kp
})

func TestAdobeCommerceResult(t *testing.T) {
	ext := vectorExts(t)
	vec := findVector(t, "adobecommerce-computed-1")
	v, err := newAdobeCommerce(adobeVectorSource(vec, ext))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Topic: "observer.catalog_product_save_after"}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}

	// The public key as one line of base64 DER works as well as PEM.
	blk, _ := pem.Decode([]byte(ext[vec.ID].PublicKeyPEM))
	if _, err := newAdobeCommerce(config.Source{Secrets: []string{base64.StdEncoding.EncodeToString(blk.Bytes)}}); err != nil {
		t.Errorf("base64 DER key: %v", err)
	}
	ec := testECDSA().pub[0]
	for _, tt := range []struct{ key, want string }{
		{"-----BEGIN PUBLIC KEY-----\nbroken", "secrets[0]: want the webhook public key as PEM or base64 DER"},
		{"aGVsbG8=", "secrets[0]: not a public key"},
		{ec, "secrets[0]: not an RSA public key"},
	} {
		if _, err := newAdobeCommerce(config.Source{Secrets: []string{tt.key}}); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%.20q: %v, want %q", tt.key, err, tt.want)
		}
	}

	// PKCS #1 private keys sign too; public keys do not.
	kp := testRSA()
	pb, _ := pem.Decode([]byte(kp.priv[0]))
	k, _ := x509.ParsePKCS8PrivateKey(pb.Bytes)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.(*rsa.PrivateKey))}))
	body := []byte(`{"eventName":"x"}`)
	h, err := signAdobeCommerce(pkcs1, body, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ = newAdobeCommerce(config.Source{Secrets: kp.pub[:1]})
	if res, err := v.Verify(&Request{Header: h, Body: body}); err != nil || res.Topic != "x" {
		t.Errorf("PKCS #1 signer: %+v, %v", res, err)
	}
	if _, err := signAdobeCommerce(kp.pub[0], body, SignOptions{}); err == nil {
		t.Error("signed with a public key")
	}
}

// FuzzAdobeCommerceSignature: no panic, and only an RSA signature of
// base64(body) under the vectors' key is accepted.
func FuzzAdobeCommerceSignature(f *testing.F) {
	ext := vectorExts(f)
	key := ext["adobecommerce-computed-1"].PublicKeyPEM
	for _, v := range loadVectors(f) {
		if v.Provider == "adobe-commerce" {
			f.Add(v.Headers["x-adobe-commerce-webhook-signature"], []byte(v.Body))
		}
	}
	ver, err := newAdobeCommerce(config.Source{Secrets: []string{key}})
	if err != nil {
		f.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(key))
	pub, _ := x509.ParsePKIXPublicKey(blk.Bytes)
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		h := http.Header{}
		h.Set(adobeCommerceSigHeader, sig)
		_, err := ver.Verify(&Request{Header: h, Body: body})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		raw, derr := base64.StdEncoding.DecodeString(sig)
		digest := sha256.Sum256([]byte(base64.StdEncoding.EncodeToString(body)))
		if derr != nil || rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], raw) != nil {
			t.Fatalf("accepted %q", sig)
		}
	})
}
