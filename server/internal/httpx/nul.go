package httpx

import "bytes"

var nulEscape = []byte(`\u0000`)

// replaceNULEscapes rewrites each \u0000 escape of a JSON text as \ufffd. PostgreSQL
// stores neither NUL in text nor \u0000 in jsonb, so one such character from an agent's
// log line, file name or error message would otherwise fail the request with a 500 —
// and a report the agent retries forever. JSON cannot carry a raw NUL byte (control
// characters must be escaped), so the escape is the only way in. "\\u0000" (an escaped
// backslash, then the text u0000) is left alone.
func replaceNULEscapes(body []byte) []byte {
	if !bytes.Contains(body, nulEscape) {
		return body
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' || i+1 >= len(body) {
			out = append(out, c)
			continue
		}
		if bytes.HasPrefix(body[i:], nulEscape) {
			out = append(out, `\ufffd`...)
			i += len(nulEscape) - 1
			continue
		}
		out = append(out, c, body[i+1]) // any other escape, \\ included, is kept whole
		i++
	}
	return out
}
