package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/hookyard/hookyard/internal/config"
)

// GitHub signs the raw body: "sha256=" + hex HMAC-SHA256 in
// X-Hub-Signature-256. The legacy SHA-1 X-Hub-Signature is not accepted.
// GitHub signs no timestamp.
const (
	githubSigHeader = "X-Hub-Signature-256"
	githubSigPrefix = "sha256="
	// Canonical spellings of X-GitHub-Event and X-GitHub-Delivery, so
	// http.Header.Get need not canonicalise them on every request.
	githubEventHeader    = "X-Github-Event"
	githubDeliveryHeader = "X-Github-Delivery"
)

var githubProvider = Provider{
	Name: "github",
	JSON: true,
	New:  newGitHub,
	Sign: signGitHub,
}

type github struct {
	keys []*macKey
}

func newGitHub(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	return &github{keys: newMACKeys(sha256.New, src.Secrets)}, nil
}

func (v *github) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(githubSigHeader)
	if sig == "" {
		if r.Header.Get("X-Hub-Signature") != "" {
			return Result{}, badSignature("missing %s header (the legacy SHA-1 X-Hub-Signature is not accepted)", githubSigHeader)
		}
		return Result{}, badSignature("missing %s header", githubSigHeader)
	}
	hexSig, ok := strings.CutPrefix(sig, githubSigPrefix)
	var got [sha256.Size]byte
	if !ok || !decodeSig(got[:], hexSig, encHex) {
		return Result{}, badSignature("%s is not %q followed by a hex HMAC-SHA256", githubSigHeader, githubSigPrefix)
	}
	idx := -1
	for i, k := range v.keys {
		var want [sha256.Size]byte
		if hmac.Equal(k.sum(want[:], nil, r.Body, nil), got[:]) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return Result{}, badSignature("%s does not match the body", githubSigHeader)
	}
	return Result{
		SecretIndex: idx,
		Topic:       r.Header.Get(githubEventHeader),
		DeliveryID:  r.Header.Get(githubDeliveryHeader),
	}, nil
}

func signGitHub(secret string, body []byte, o SignOptions) (http.Header, error) {
	h := http.Header{}
	h.Set(githubSigHeader, githubSigPrefix+hex.EncodeToString(macSum(sha256.New, []byte(secret), body)))
	if o.Topic != "" {
		h.Set(githubEventHeader, o.Topic)
	}
	id := o.ID
	if id == "" {
		id = newUUID()
	}
	h.Set(githubDeliveryHeader, id)
	return h, nil
}
