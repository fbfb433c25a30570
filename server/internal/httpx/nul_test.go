package httpx

import (
	"encoding/json"
	"testing"
)

func TestReplaceNULEscapes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a":"plain"}`, "plain"},
		{`{"a":"x\u0000y"}`, "x\uFFFDy"},
		{`{"a":"\u0000\u0000"}`, "\uFFFD\uFFFD"},
		{`{"a":"\\u0000"}`, `\u0000`},                 // an escaped backslash, then text
		{`{"a":"\\\u0000"}`, "\\\uFFFD"},              // an escaped backslash, then a NUL
		{`{"a":"\u00000"}`, "\uFFFD0"},                // the escape is exactly six bytes
		{`{"a":"\"\u0000\""}`, "\"\uFFFD\""},          // quotes around it
		{`{"a":"tab\t\u0041\u0000"}`, "tab\tA\uFFFD"}, // other escapes survive
	} {
		var v struct{ A string }
		if err := json.Unmarshal(replaceNULEscapes([]byte(c.in)), &v); err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if v.A != c.want {
			t.Errorf("%s: got %q, want %q", c.in, v.A, c.want)
		}
	}
}
