package webhook

// JSONDepthOK reports whether body nests objects and arrays at most max
// deep. It scans bytes without parsing, so it is cheap and safe to run
// before anything decodes the body.
func JSONDepthOK(body []byte, max int) bool {
	depth := 0
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}
