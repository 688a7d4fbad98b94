package verify

import (
	"encoding/json"
	"os"
	"testing"
)

// vectorExt holds the optional vector fields of key-material and URL-bound
// schemes, read beside vector so that its struct stays the shared one.
type vectorExt struct {
	NotificationURL         string `json:"notification_url"`
	PublicKey               string `json:"public_key"`     // SendGrid, base64 DER
	PublicKeyPEM            string `json:"public_key_pem"` // Adobe Commerce
	SecretAlreadyNormalised bool   `json:"secret_already_normalised"`
}

// vectorExts maps vector ids to their optional fields.
func vectorExts(t testing.TB) map[string]vectorExt {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []struct {
		ID string `json:"id"`
		vectorExt
	}
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	m := make(map[string]vectorExt, len(vs))
	for _, v := range vs {
		m[v.ID] = v.vectorExt
	}
	return m
}
