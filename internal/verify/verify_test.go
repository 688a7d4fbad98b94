package verify

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// vector is one entry of testdata/vectors.json, a copy of the provider
// research's fact file (see its SIGNATURES.md for the schema).
type vector struct {
	ID            string            `json:"id"`
	Provider      string            `json:"provider"`
	Scheme        string            `json:"scheme"`
	Secret        string            `json:"secret"`
	Headers       map[string]string `json:"headers"`
	Body          string            `json:"body"`
	ExpectedValid bool              `json:"expected_valid"`
	Failure       string            `json:"failure"`
	VerifyAt      int64             `json:"verify_at"`
	ToleranceS    int64             `json:"tolerance_s"`
	SeedB64       string            `json:"signing_key_seed_b64"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

// vectorNow is the clock of vectors that carry none; their schemes sign no
// timestamp, so any instant does.
var vectorNow = time.Unix(1700000000, 0)

func (v vector) request() *Request {
	h := http.Header{}
	for k, val := range v.Headers {
		h.Add(k, val)
	}
	now := vectorNow
	if v.VerifyAt != 0 {
		now = time.Unix(v.VerifyAt, 0)
	}
	return &Request{Header: h, Body: []byte(v.Body), Now: now}
}

// source returns a source for the vector's secret and window.
func (v vector) source(provider string) config.Source {
	return config.Source{
		Name:      v.ID,
		Provider:  provider,
		Secrets:   []string{v.Secret},
		Tolerance: config.Duration(time.Duration(v.ToleranceS) * time.Second),
	}
}

// runVectors checks every vector pick selects against expected_valid, with
// the source pick builds for it, and returns how many ran.
func runVectors(t *testing.T, pick func(vector) (config.Source, bool)) int {
	t.Helper()
	return runVectorsWith(t, pick, nil)
}

// runVectorsWith is runVectors with a hook that adjusts each request before
// it is verified (a clock the vector file does not carry, say).
func runVectorsWith(t *testing.T, pick func(vector) (config.Source, bool), prep func(vector, *Request)) int {
	t.Helper()
	n := 0
	for _, vec := range loadVectors(t) {
		src, ok := pick(vec)
		if !ok {
			continue
		}
		n++
		t.Run(vec.ID, func(t *testing.T) {
			p, ok := Lookup(src.Provider)
			if !ok {
				t.Fatalf("no provider %q", src.Provider)
			}
			ver, err := p.New(src)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			r := vec.request()
			if prep != nil {
				prep(vec, r)
			}
			res, err := ver.Verify(r)
			if vec.ExpectedValid {
				if err != nil {
					t.Fatalf("Verify: %v, want valid", err)
				}
				if res.SecretIndex != 0 {
					t.Errorf("SecretIndex = %d, want 0", res.SecretIndex)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted a vector that must fail (%s)", vec.Failure)
			}
			want := webhook.ErrBadSignature
			if vec.Failure == "stale_timestamp" {
				want = webhook.ErrStaleTimestamp
			}
			if !errors.Is(err, want) {
				t.Errorf("Verify: %v, want it to wrap %v", err, want)
			}
			assertNoSecret(t, err, src.Secrets...)
		})
	}
	return n
}

// assertNoSecret fails if err's message quotes any secret.
func assertNoSecret(t testing.TB, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) >= 6 && strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains a secret", err)
		}
	}
}

func TestCheckTimestamp(t *testing.T) {
	now := time.Unix(1614265330+412, 0)
	tests := []struct {
		name string
		ts   int64
		tol  time.Duration
		want string // "" for accepted
	}{
		{"now", 1614265742, 5 * time.Minute, ""},
		{"edge old", 1614265742 - 300, 5 * time.Minute, ""},
		{"edge future", 1614265742 + 300, 5 * time.Minute, ""},
		{"old", 1614265330, 5 * time.Minute, "timestamp 1614265330 is 412s old, outside the 5m0s window"},
		{"future", 1614265742 + 301, 5 * time.Minute, "timestamp 1614266043 is 301s in the future, outside the 5m0s window"},
		{"wider window", 1614265330, time.Hour, ""},
		{"far past", -1 << 63, time.Hour, "far outside"},
		{"far future", 1<<63 - 1, time.Hour, "far outside"},
		{"beyond 2^40", 1<<40 + 1, 1 << 62, "far outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTimestamp(tt.ts, now, tt.tol)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want accepted", err)
				}
				return
			}
			if !errors.Is(err, webhook.ErrStaleTimestamp) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrStaleTimestamp containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeSig(t *testing.T) {
	tests := []struct {
		s    string
		enc  sigEncoding
		size int
		ok   bool
	}{
		{"00ff", encHex, 2, true},
		{"00FF", encHex, 2, true},
		{"00f", encHex, 2, false},
		{"00fg", encHex, 2, false},
		{"00ff00", encHex, 2, false},
		{"AP8=", encBase64, 2, true},
		{"AP9=", encBase64, 2, false}, // non-canonical trailing bits
		{"AP8", encBase64, 2, false},  // unpadded
		{"A\nP8=", encBase64, 2, false},
		{"AP8=AA==", encBase64, 2, false},
		{"", encBase64, 2, false},
	}
	for _, tt := range tests {
		dst := make([]byte, tt.size)
		if got := decodeSig(dst, tt.s, tt.enc); got != tt.ok {
			t.Errorf("decodeSig(%q, %v) = %v, want %v", tt.s, tt.enc, got, tt.ok)
		}
	}
}

func TestNewUUID(t *testing.T) {
	id := newUUID()
	if len(id) != 36 || id[14] != '4' || strings.Count(id, "-") != 4 {
		t.Fatalf("newUUID() = %q, want a version 4 UUID", id)
	}
	if newUUID() == id {
		t.Fatal("newUUID repeated itself")
	}
}

// checkResult compares a verifier's Result with want, Timestamps as
// instants (a parsed time carries its zone, which Result equality would
// compare too).
func checkResult(t *testing.T, res, want Result) {
	t.Helper()
	if !res.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", res.Timestamp, want.Timestamp)
	}
	res.Timestamp, want.Timestamp = time.Time{}, time.Time{}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
}
