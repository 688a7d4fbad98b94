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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func sendgridVectorSource(v vector, ext map[string]vectorExt) config.Source {
	src := v.source("sendgrid")
	src.Secrets = []string{ext[v.ID].PublicKey}
	return src
}

func TestSendGridVectors(t *testing.T) {
	ext := vectorExts(t)
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return sendgridVectorSource(v, ext), v.Provider == "sendgrid"
	})
	if n != 6 {
		t.Fatalf("ran %d sendgrid vectors, want 6", n)
	}
}

// keyPairs are two signing keys and their public keys, as a source and
// `hookyard send` take them.
type keyPairs struct{ priv, pub []string }

// testECDSA returns two P-256 key pairs, base64 DER (PKCS #8 and SPKI).
var testECDSA = sync.OnceValue(func() keyPairs {
	var kp keyPairs
	for range 2 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		priv, _ := x509.MarshalPKCS8PrivateKey(k)
		pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		kp.priv = append(kp.priv, base64.StdEncoding.EncodeToString(priv))
		kp.pub = append(kp.pub, base64.StdEncoding.EncodeToString(pub))
	}
	return kp
})

// sendgridBody is a batch of about size bytes whose events are all
// testTopic, ending in CRLF as SendGrid's do.
func sendgridBody(size int) []byte {
	var b []byte
	b = append(b, '[')
	for i := 0; len(b) < size-200 || i == 0; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"email":"a@example.com","event":%q,"sg_event_id":"ev%04d","timestamp":%d}`, testTopic, i, testNow.Unix())
	}
	return append(b, "]\r\n"...)
}

func TestSendGridResult(t *testing.T) {
	ext := vectorExts(t)
	vec := findVector(t, "sendgrid-official-1")
	v, err := newSendGrid(sendgridVectorSource(vec, ext))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	// One "dropped" event in the batch; no window by default, so a 2020
	// timestamp verifies in 2023.
	if want := (Result{Topic: "dropped", Timestamp: time.Unix(1600112502, 0)}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}

	// With a tolerance the signed timestamp is held to it.
	src := sendgridVectorSource(vec, ext)
	src.Tolerance = config.Duration(time.Hour)
	v, err = newSendGrid(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(vec.request()); !errors.Is(err, webhook.ErrStaleTimestamp) {
		t.Errorf("2020 timestamp with a 1h window: %v, want ErrStaleTimestamp", err)
	}
	r := vec.request()
	r.Now = time.Unix(1600112502+3599, 0)
	if _, err := v.Verify(r); err != nil {
		t.Errorf("inside the window: %v", err)
	}

	// Mixed event types: no topic.
	kp := testECDSA()
	body := []byte(`[{"event":"open"},{"event":"click"}]` + "\r\n")
	h, err := signSendGrid(kp.priv[0], body, SignOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	v, _ = newSendGrid(config.Source{Secrets: kp.pub[:1]})
	if res, err := v.Verify(&Request{Header: h, Body: body}); err != nil || res.Topic != "" {
		t.Errorf("mixed batch: %+v, %v", res, err)
	}
	// Over-long and non-canonical signatures are refused before any work.
	for _, sig := range []string{strings.Repeat("A", 100), h.Get(sendgridSigHeader) + "\n"} {
		h2 := h.Clone()
		h2.Set(sendgridSigHeader, sig)
		if _, err := v.Verify(&Request{Header: h2, Body: body}); !errors.Is(err, webhook.ErrBadSignature) {
			t.Errorf("signature %q: %v", sig, err)
		}
	}
}

func TestSendGridKeys(t *testing.T) {
	kp := testECDSA()
	der, _ := base64.StdEncoding.DecodeString(kp.pub[0])
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	blk, _ := pem.Decode([]byte(vectorExts(t)["adobecommerce-computed-1"].PublicKeyPEM))
	rsaPub := blk.Bytes
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	for _, tt := range []struct {
		key, want string
	}{
		{kp.pub[0], ""},
		{pemKey, ""},
		{"not base64!", "secrets[0]: want the verification key as base64 DER"},
		{base64.StdEncoding.EncodeToString([]byte("junk")), "secrets[0]: not a public key"},
		{base64.StdEncoding.EncodeToString(rsaPub), "secrets[0]: not an ECDSA P-256 public key"},
		{base64.StdEncoding.EncodeToString(p384DER), "secrets[0]: not an ECDSA P-256 public key"},
		{kp.priv[0], "secrets[0]: not a public key"},
	} {
		_, err := newSendGrid(config.Source{Secrets: []string{tt.key}})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%.20q: %v", tt.key, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%.20q: %v, want %q", tt.key, err, tt.want)
		}
	}
	for _, secret := range []string{"", "x", kp.pub[0]} {
		if _, err := signSendGrid(secret, nil, SignOptions{}); err == nil {
			t.Errorf("signed with %.20q", secret)
		}
	}
}

// FuzzSendGridSignature: no panic, and only a valid ECDSA signature of
// timestamp+body under the official vector's key is accepted.
func FuzzSendGridSignature(f *testing.F) {
	ext := vectorExts(f)
	key := ext["sendgrid-official-1"].PublicKey
	for _, v := range loadVectors(f) {
		if v.Provider == "sendgrid" {
			f.Add(v.Headers[sendgridSigHeader], v.Headers[sendgridTSHeader], []byte(v.Body))
		}
	}
	ver, err := newSendGrid(config.Source{Secrets: []string{key}})
	if err != nil {
		f.Fatal(err)
	}
	pub, _ := parseP256Public(key)
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		h := http.Header{}
		h.Set(sendgridSigHeader, sig)
		h.Set(sendgridTSHeader, ts)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: vectorNow})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		der, derr := base64.StdEncoding.DecodeString(sig)
		digest := sha256.Sum256(append([]byte(ts), body...))
		if derr != nil || !ecdsa.VerifyASN1(pub, digest[:], der) {
			t.Fatalf("accepted signature %q over %q", sig, ts)
		}
	})
}
