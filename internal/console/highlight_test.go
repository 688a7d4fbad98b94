package console

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/api"
)

var tagRE = regexp.MustCompile(`<[^>]*>`)

func TestHighlightJSON(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string // spans that must appear
	}{
		{"key and string", `{"a":"b"}`, []string{`<span class="k">&#34;a&#34;</span>`, `<span class="s">&#34;b&#34;</span>`}},
		{"escaped quote stays in the string", `{"q":"say \"hi\": now"}`,
			[]string{`<span class="s">&#34;say \&#34;hi\&#34;: now&#34;</span>`}},
		{"string that looks like a key", `["x", "y"]`, []string{`<span class="s">&#34;x&#34;</span>`}},
		{"numbers", `[-1.5e+3, 0, 42]`, []string{`<span class="n">-1.5e+3</span>`, `<span class="n">0</span>`}},
		{"literals", `[true,false,null]`, []string{`<span class="l">true</span>`, `<span class="l">null</span>`}},
		{"markup is escaped", `{"h":"</pre><script>x</script>"}`, []string{`&lt;/pre&gt;&lt;script&gt;`}},
		{"truncated string runs to the end", `{"a":"unterminated`, []string{`<span class="s">&#34;unterminated</span>`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := highlightJSON([]byte(c.in))
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("highlightJSON(%s) = %s\nlacks %s", c.in, got, w)
				}
			}
			// Stripping the spans and unescaping gives the input back.
			if plain := html.UnescapeString(tagRE.ReplaceAllString(got, "")); plain != c.in {
				t.Errorf("text of the highlighted output = %q, want %q", plain, c.in)
			}
			if strings.Contains(got, "<script") || strings.Contains(got, "</pre") {
				t.Errorf("unescaped markup in %s", got)
			}
		})
	}
}

func TestHighlightBodyEncodings(t *testing.T) {
	js := highlightBody(json.RawMessage(`{"a":1}`), api.EncodingJSON)
	if !strings.Contains(string(js.HTML), "\n  <span class=\"k\">") {
		t.Errorf("JSON body not indented: %s", js.HTML)
	}
	text := highlightBody(json.RawMessage(`"a=1&b=<2>"`), api.EncodingText)
	if string(text.HTML) != "a=1&amp;b=&lt;2&gt;" {
		t.Errorf("text body = %s", text.HTML)
	}
	big := `"` + strings.Repeat("x", maxShownBody+10) + `"`
	if cut := highlightBody(json.RawMessage(big), api.EncodingText); cut.Cut != 10 {
		t.Errorf("a body over the limit cut %d bytes, want 10", cut.Cut)
	}
	if empty := highlightBody(nil, ""); empty.Encoding != "" || empty.HTML != "" {
		t.Errorf("empty body = %+v", empty)
	}
}
