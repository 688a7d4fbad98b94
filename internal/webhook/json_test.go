package webhook

import (
	"strings"
	"testing"
)

func TestJSONDepthOK(t *testing.T) {
	tests := []struct {
		body string
		max  int
		want bool
	}{
		{`{"a":[1,{"b":2}]}`, 3, true},
		{`{"a":[1,{"b":2}]}`, 2, false},
		{`{"a":"[[[[[[[[["}`, 1, true}, // brackets inside strings do not count
		{`{"a":"\"[[["}`, 1, true},     // nor after an escaped quote
		{strings.Repeat("[", 10000) + strings.Repeat("]", 10000), 64, false},
		{`"plain"`, 1, true},
	}
	for _, tt := range tests {
		if got := JSONDepthOK([]byte(tt.body), tt.max); got != tt.want {
			t.Errorf("JSONDepthOK(%.40q, %d) = %v, want %v", tt.body, tt.max, got, tt.want)
		}
	}
}
