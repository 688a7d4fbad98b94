package api_test

import (
	"context"
	"testing"
)

// BenchmarkWhoami compares authenticating with a config token (digest
// compare in memory) and with a stored token (one primary-key read).
func BenchmarkWhoami(b *testing.B) {
	f := setup(b)
	stored := f.createToken(b, "viewer").Token
	for _, bc := range []struct{ name, token string }{{"config", viewerToken}, {"stored", stored}} {
		b.Run(bc.name, func(b *testing.B) {
			c := f.client(bc.token)
			for b.Loop() {
				if _, err := c.Whoami(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
