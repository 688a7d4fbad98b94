package console

import (
	"bytes"
	"encoding/json"
	"html/template"
	"strings"

	"github.com/hookyard/hookyard/internal/api"
)

// maxShownBody bounds how much of a body a page shows; the rest is cut
// with a note (the API and CLI give the whole body).
const maxShownBody = 256 << 10

// shownBody is a body ready for a page.
type shownBody struct {
	HTML     template.HTML // highlighted, escaped
	Encoding string
	Cut      int // bytes not shown
}

// highlightBody renders a body from the API: JSON indented and highlighted
// (keys, strings, numbers, literals), text escaped as is, binary as base64.
func highlightBody(raw json.RawMessage, encoding string) shownBody {
	out := shownBody{Encoding: encoding}
	switch encoding {
	case "":
		return out
	case api.EncodingJSON:
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			buf.Reset()
			buf.Write(raw)
		}
		b := buf.Bytes()
		if len(b) > maxShownBody {
			out.Cut = len(b) - maxShownBody
			b = b[:maxShownBody]
		}
		out.HTML = template.HTML(highlightJSON(b))
	default:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			s = string(raw)
		}
		if len(s) > maxShownBody {
			out.Cut = len(s) - maxShownBody
			s = s[:maxShownBody]
		}
		out.HTML = template.HTML(template.HTMLEscapeString(s))
	}
	return out
}

// highlightJSON wraps the tokens of indented JSON in spans. It works on
// possibly truncated input: an unterminated token runs to the end.
func highlightJSON(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) * 2)
	span := func(class string, tok []byte) {
		sb.WriteString(`<span class="`)
		sb.WriteString(class)
		sb.WriteString(`">`)
		sb.WriteString(template.HTMLEscapeString(string(tok)))
		sb.WriteString(`</span>`)
	}
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(b))
			class := "s"
			k := j
			for k < len(b) && (b[k] == ' ' || b[k] == '\n') {
				k++
			}
			if k < len(b) && b[k] == ':' {
				class = "k"
			}
			span(class, b[i:j])
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(b) && strings.IndexByte("0123456789.eE+-", b[j]) >= 0 {
				j++
			}
			span("n", b[i:j])
			i = j
		case c == 't' || c == 'f' || c == 'n':
			j := i + 1
			for j < len(b) && b[j] >= 'a' && b[j] <= 'z' {
				j++
			}
			span("l", b[i:j])
			i = j
		default:
			sb.WriteString(template.HTMLEscapeString(string(c)))
			i++
		}
	}
	return sb.String()
}
