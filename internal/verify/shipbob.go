package verify

import (
	"net/http"

	"github.com/hookyard/hookyard/internal/config"
)

// ShipBob's dated webhook API (2026-01 on) signs with Standard Webhooks
// (webhook-id, webhook-timestamp, webhook-signature, whsec_ secrets, 5
// minute window) and names the topic in x-webhook-topic, which is preferred
// over the body's type. Legacy subscriptions are unsigned (they send
// shipbob-topic and no signature) and need provider none.
const shipbobTopicHeader = "X-Webhook-Topic"

var shipbobProvider = Provider{
	Name: "shipbob",
	JSON: true,
	New:  newShipBob,
	Sign: signShipBob,
}

type shipbob struct {
	sw Verifier
}

func newShipBob(src config.Source) (Verifier, error) {
	sw, err := newStandardWebhooks(src)
	if err != nil {
		return nil, err
	}
	return shipbob{sw: sw}, nil
}

func (v shipbob) Verify(r *Request) (Result, error) {
	res, err := v.sw.Verify(r)
	if err != nil {
		return Result{}, err
	}
	if t := r.Header.Get(shipbobTopicHeader); t != "" {
		res.Topic = t
	}
	return res, nil
}

func signShipBob(secret string, body []byte, o SignOptions) (http.Header, error) {
	h, err := signStandardWebhooks(secret, body, o)
	if err != nil {
		return nil, err
	}
	if o.Topic != "" {
		h.Set(shipbobTopicHeader, o.Topic)
	}
	return h, nil
}
