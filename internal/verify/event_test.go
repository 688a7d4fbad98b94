package verify

import (
	"encoding/json"
	"testing"
)

func TestScanEvent(t *testing.T) {
	tests := []struct {
		body string
		want eventFields
	}{
		{`{"id":"evt_1","type":"a.b","created":1700000000}`, eventFields{"evt_1", "a.b", 1700000000}},
		{"{\n  \"id\": \"evt_1\",\n  \"object\": \"event\"\n}", eventFields{ID: "evt_1"}},
		{`{"data":{"id":"nested","type":"nested"},"list":[{"id":"x"},"]}"],"type":"top"}`, eventFields{Type: "top"}},
		{`{"note":"a \"quoted\" }","id":"evt_2"}`, eventFields{ID: "evt_2"}},
		{`{"id":"caf\u00e9 \"x\""}`, eventFields{ID: "café \"x\""}},
		{`{"\u0069d":"escaped key"}`, eventFields{ID: "escaped key"}},
		{`{"ID":"other case","Type":"x"}`, eventFields{}},
		{`{"id":"first","id":"last"}`, eventFields{ID: "last"}},
		{`{"id":5,"type":null,"created":"1700000000"}`, eventFields{}},
		{`{"created":1.5}`, eventFields{}},
		{`{"created":-9223372036854775808}`, eventFields{Created: -9223372036854775808}},
		{`{"created":9223372036854775808}`, eventFields{}},
		{`{}`, eventFields{}},
		{` [ {"id":"x"} ]`, eventFields{}},
		{`{"id":"x"`, eventFields{}},
		{`{"id":"x",}`, eventFields{}},
		{`{"id":}`, eventFields{}},
		{``, eventFields{}},
		{`not json`, eventFields{}},
	}
	for _, tt := range tests {
		if got := scanEvent([]byte(tt.body)); got != tt.want {
			t.Errorf("scanEvent(%s) = %+v, want %+v", tt.body, got, tt.want)
		}
	}
}

// FuzzScanEvent checks scanEvent against encoding/json on every valid JSON
// object, and that it never panics on anything else.
func FuzzScanEvent(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add([]byte(v.Body))
	}
	f.Add([]byte(`{"id":"evt_1","type":"a.b","created":1700000000,"data":{"x":[1,2,{"y":"}"}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got := scanEvent(body)
		var m map[string]json.RawMessage
		if !json.Valid(body) || json.Unmarshal(body, &m) != nil {
			return
		}
		var want eventFields
		if raw, ok := m["id"]; ok {
			_ = json.Unmarshal(raw, &want.ID)
		}
		if raw, ok := m["type"]; ok {
			_ = json.Unmarshal(raw, &want.Type)
		}
		if raw, ok := m["created"]; ok {
			if json.Unmarshal(raw, &want.Created) != nil {
				want.Created = 0
			}
		}
		if got != want {
			t.Fatalf("scanEvent(%q) = %+v, encoding/json says %+v", body, got, want)
		}
	})
}
