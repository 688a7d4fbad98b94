package verify

import (
	"net/http"

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

var githubMAC = macHeader{name: githubSigHeader, prefix: githubSigPrefix, enc: encHex, alg: hmacSHA256}

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
	return &github{keys: githubMAC.keys(src.Secrets)}, nil
}

func (v *github) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(githubSigHeader)
	if sig == "" && r.Header.Get("X-Hub-Signature") != "" {
		return Result{}, badSignature("missing %s header (the legacy SHA-1 X-Hub-Signature is not accepted)", githubSigHeader)
	}
	idx, err := githubMAC.verifyBody(v.keys, sig, r.Body)
	if err != nil {
		return Result{}, err
	}
	return Result{
		SecretIndex: idx,
		Topic:       r.Header.Get(githubEventHeader),
		DeliveryID:  r.Header.Get(githubDeliveryHeader),
	}, nil
}

func signGitHub(secret string, body []byte, o SignOptions) (http.Header, error) {
	h := http.Header{}
	h.Set(githubSigHeader, githubMAC.sign([]byte(secret), body))
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
