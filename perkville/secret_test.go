package perkville

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// pieceOf returns the first piece of minPiece characters of token in s, or
// "" when there is none: what no output may hold.
func pieceOf(token, s string) string {
	for i := 0; i+minPiece <= len(s); i++ {
		if strings.Contains(token, s[i:i+minPiece]) {
			return s[i : i+minPiece]
		}
	}
	return ""
}

// spell writes token into a JSON string: each character whose bit is set in
// mask is written as a \u escape, as a server's JSON encoder may.
func spell(token string, mask uint64) string {
	var b strings.Builder
	for i, c := range []byte(token) {
		if mask>>(i%64)&1 == 1 {
			fmt.Fprintf(&b, `\u%04x`, c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// scrubbedAnswer puts text (JSON-escaped as written) where answers carry
// server text, and returns every output made from them: a decoded object's
// fields, and an error answer's message, body and Error().
func scrubbedAnswer(t *testing.T, s scrubber, text string) []string {
	t.Helper()
	var biz Business
	obj := []byte(`{"business_id": 25, "name": "` + text + `", "perkville_url": "https://x.example/` + text + `"}`)
	if err := json.Unmarshal(obj, &biz); err != nil {
		return nil // not JSON: no answer decodes it; the caller fails
	}
	s.decoded(&biz)
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(obj, &raw)
	s.decoded(&raw)
	body := []byte(`{"error_type": "x", "errors": {"email": [{"code": "pv_echo", "message": "you sent ` + text + `"}]}}`)
	resp := &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{"Retry-After": {text}}}
	e := newError(http.MethodGet, "/v2/connections/", resp, body, time.Now(), s)
	html := &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{"Content-Type": {"text/html"}}}
	h := newError(http.MethodGet, "/v2/connections/", html, []byte("<html><title>"+text+"</title></html>"), time.Now(), s)
	return []string{biz.Name, biz.PerkvilleURL, string(raw["name"]), string(raw["perkville_url"]), e.Error(), e.Body, e.RetryAfterHeader,
		h.Error(), h.Body}
}

func TestScrubberSpellings(t *testing.T) {
	const token = "9f86d081884c7d659a2feaa0c55ad015"
	s := newScrubber(Secret(token))
	for name, text := range map[string]string{
		"plain":          "Bearer " + token,
		"escaped":        spell(token, 0x5555),
		"all escaped":    spell(token, ^uint64(0)),
		"cut at the end": strings.Repeat("x", 190) + token[:12],
		"cut at 200":     strings.Repeat("y", 195) + token,
		"split":          token[:12] + `\n` + token[12:],
		"head and tail":  token[20:] + " and " + token[:9],
	} {
		outs := scrubbedAnswer(t, s, text)
		if outs == nil {
			t.Fatalf("%s: not a JSON string's text", name)
		}
		for _, out := range outs {
			if p := pieceOf(token, out); p != "" {
				t.Errorf("%s: %q holds %q", name, out, p)
			}
		}
	}
	// A needed field holding the token (escaped) in a shape the tool
	// cannot use: what the row's error says the answer held is scrubbed.
	var conn Connection
	if err := json.Unmarshal([]byte(`{"connection_id": "`+spell(token, 0x3)+`", "business": "/v2/businesses/25/"}`), &conn); err != nil {
		t.Fatal(err)
	}
	s.decoded(&conn)
	if conn.Shape() == nil {
		t.Fatal("an id that is the token was taken")
	}
	if p := pieceOf(token, conn.Shape().Error()); p != "" {
		t.Errorf("%q holds %q", conn.Shape().Error(), p)
	}
	// Text without the token is left as it was.
	if got := s.text("Riverside Fitness https://riverside.perkville.com/"); got != "Riverside Fitness https://riverside.perkville.com/" {
		t.Errorf("changed: %q", got)
	}
	// A short piece of it is ordinary text.
	if got := s.text("id " + token[:7]); got != "id "+token[:7] {
		t.Errorf("changed: %q", got)
	}
}

// jsonText is s as written inside a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// FuzzScrubber feeds the scrubber the token spelled escaped, split and cut,
// among any text: no output may hold minPiece characters of it in a row.
func FuzzScrubber(f *testing.F) {
	f.Add([]byte("seed"), "before ", " after", uint64(0), uint8(0), uint8(0))
	f.Add([]byte("other"), "", "", uint64(0xff00ff), uint8(9), uint8(3))
	f.Add([]byte("x"), "Bearer ", "…", ^uint64(0), uint8(31), uint8(0))
	f.Fuzz(func(t *testing.T, seed []byte, before, after string, mask uint64, cut, split uint8) {
		sum := sha256.Sum256(seed)
		token := hex.EncodeToString(sum[:])[:16+int(sum[0]%32)] // of 16 to 47 characters, as tokens are
		spelled := token
		if c := int(cut) % (len(token) + 1); c >= minPiece {
			spelled = token[:c] // what a cut leaves
		}
		if k := int(split) % len(spelled); k > 0 {
			spelled = spelled[:k] + "-" + spelled[k:] // split by other text
		}
		text := jsonText(before) + spell(spelled, mask) + jsonText(after)
		outs := scrubbedAnswer(t, newScrubber(Secret(token)), text)
		if outs == nil {
			t.Fatalf("%s is not a JSON string's text", text)
		}
		for _, out := range outs {
			if p := pieceOf(token, out); p != "" {
				t.Fatalf("%q holds %q of the token %q", out, p, token)
			}
		}
	})
}
