package dest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// signatureHeaders are the Standard Webhooks headers, canonical.
var signatureHeaders = []string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}

// signer signs outbound requests in the Standard Webhooks format
// (https://www.standardwebhooks.com): webhook-id is the delivery's
// idempotency key, so a receiver that deduplicates by it sees retries and
// replays as one message; webhook-signature carries one "v1,<base64>" per
// secret, so during a rotation the receiver may hold either secret.
type signer struct {
	keys [][]byte
}

func newSigner(secrets []string) (*signer, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("secrets: at least one whsec_ secret is required")
	}
	s := &signer{}
	for i, sec := range secrets {
		rest, ok := strings.CutPrefix(sec, "whsec_")
		if !ok {
			return nil, fmt.Errorf("secrets[%d]: want whsec_ followed by base64", i)
		}
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			key, err = base64.RawStdEncoding.DecodeString(rest)
		}
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("secrets[%d]: the part after whsec_ is not base64", i)
		}
		s.keys = append(s.keys, key)
	}
	return s, nil
}

// sign sets the three headers for body sent as message id at now. The
// timestamp is the attempt's, not the event's: receivers reject old
// timestamps, and a retry days later must still verify.
func (s *signer) sign(h http.Header, id string, now time.Time, body []byte) {
	ts := strconv.FormatInt(now.Unix(), 10)
	sigs := make([]string, len(s.keys))
	for i, key := range s.keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	h["Webhook-Id"] = []string{id}
	h["Webhook-Timestamp"] = []string{ts}
	h["Webhook-Signature"] = []string{strings.Join(sigs, " ")}
}
