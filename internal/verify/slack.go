package verify

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Slack sends X-Slack-Signature: "v0=" + hex HMAC-SHA256 of
// "v0:<X-Slack-Request-Timestamp>:<body>", keyed with the app's signing
// secret; the timestamp must lie within the window either way, as Slack's
// SDKs check.
//
// Bodies differ by feature. The Events API posts JSON: an event_callback
// envelope, whose event.type is the topic, event_id the dedup key (retries
// repeat it) and event_time the event's time; or the url_verification
// challenge, which is answered with its challenge once the signature holds,
// and neither stored nor routed. Slash commands post a form whose command is
// the topic; interactivity posts a form whose payload is JSON with a type;
// ssl_check=1 is a probe answered like a challenge.
const (
	slackSigHeader    = "X-Slack-Signature"
	slackTSHeader     = "X-Slack-Request-Timestamp"
	slackSigPrefix    = "v0="
	slackSignedPrefix = "v0:"
)

var slackMAC = macHeader{name: slackSigHeader, prefix: slackSigPrefix, enc: encHex, alg: hmacSHA256, signed: "the timestamp and body"}

var slackProvider = Provider{
	Name: "slack",
	JSON: false,
	New:  newSlack,
	Sign: signSlack,
}

type slack struct {
	keys []*macKey
	tol  time.Duration
}

func newSlack(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	tol, err := tolerance(src)
	if err != nil {
		return nil, err
	}
	return &slack{keys: slackMAC.keys(src.Secrets), tol: tol}, nil
}

func (v *slack) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(slackSigHeader)
	if sig == "" {
		return Result{}, badSignature("missing %s header", slackSigHeader)
	}
	t := r.Header.Get(slackTSHeader)
	if t == "" {
		return Result{}, badSignature("missing %s header", slackTSHeader)
	}
	ts, err := parseUnix(slackTSHeader, t)
	if err != nil {
		return Result{}, err
	}
	var got [sha256.Size]byte
	if err := slackMAC.decode(&got, sig); err != nil {
		return Result{}, err
	}
	if err := checkTimestamp(ts, r.Now, v.tol); err != nil {
		return Result{}, err
	}
	var hb [32]byte
	head := append(append(append(hb[:0], slackSignedPrefix...), t...), ':')
	idx, err := slackMAC.match(v.keys, &got, head, r.Body, nil)
	if err != nil {
		return Result{}, err
	}
	res := slackResult(r.Body)
	res.SecretIndex = idx
	if res.Timestamp.IsZero() {
		res.Timestamp = time.Unix(ts, 0)
	}
	return res, nil
}

// slackResult reads an authentic body's topic, id and time, or recognises
// a handshake.
func slackResult(body []byte) Result {
	var res Result
	if i := skipSpace(body, 0); i < len(body) && body[i] == '{' {
		var typ, challenge, event, eventID, eventTime []byte
		eachMember(body, func(name, val []byte) bool {
			switch string(name) {
			case "type":
				typ = val
			case "challenge":
				challenge = val
			case "event":
				event = val
			case "event_id":
				eventID = val
			case "event_time":
				eventTime = val
			}
			return true
		})
		switch t := jsonString(typ); t {
		case "url_verification":
			res.Handshake = &Handshake{ContentType: "text/plain; charset=utf-8", Body: []byte(jsonString(challenge))}
		case "event_callback":
			res.Topic = jsonString(member(event, "type"))
			res.DeliveryID = jsonString(eventID)
			if n := jsonInt(eventTime); n > 0 {
				res.Timestamp = time.Unix(n, 0)
			}
		default:
			res.Topic = t
		}
		return res
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return res
	}
	switch {
	case form.Get("ssl_check") == "1":
		res.Handshake = &Handshake{}
	case form.Has("payload"):
		res.Topic = jsonString(member([]byte(form.Get("payload")), "type"))
	default:
		res.Topic = form.Get("command")
	}
	return res
}

// signSlack signs like Slack. Slack carries the event type and id in the
// body, so o.Topic and o.ID are not used.
func signSlack(secret string, body []byte, o SignOptions) (http.Header, error) {
	t := strconv.FormatInt(signTime(o).Unix(), 10)
	h := http.Header{}
	h.Set(slackTSHeader, t)
	h.Set(slackSigHeader, slackMAC.sign([]byte(secret), []byte(slackSignedPrefix+t+":"), body))
	return h, nil
}
