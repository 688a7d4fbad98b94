package load

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"time"
)

// Ceiling starts the machine's ceiling for ingest: a hello-world Go server
// that reads the body and checks a Shopify HMAC-SHA256 in constant time,
// answering 202. It returns its URL and a stop function.
func Ceiling(secret string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	key := []byte(secret)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		want := mac.Sum(nil)
		got, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Shopify-Hmac-Sha256"))
		if err != nil || subtle.ConstantTimeCompare(got, want) != 1 {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"id":"x","duplicate":false}`))
	})}
	go srv.Serve(l)
	return "http://" + l.Addr().String() + "/ingest/shop", func() { srv.Close() }, nil
}
