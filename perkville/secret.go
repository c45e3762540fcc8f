package perkville

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
)

// Secret is a bearer token. It prints, logs and marshals as [redacted], so
// that a %v of a struct holding it, a log line or a panic never shows it.
type Secret string

const redacted = "[redacted]"

func (Secret) String() string                  { return redacted }
func (Secret) GoString() string                { return redacted }
func (Secret) LogValue() slog.Value            { return slog.StringValue(redacted) }
func (Secret) MarshalText() ([]byte, error)    { return []byte(redacted), nil }
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// Reveal returns the token, for the Authorization header only.
func (s Secret) Reveal() string { return string(s) }

// scrubber removes the bearer token, alone or as "Bearer <token>", from
// text the server sent: a server that echoes the request's Authorization
// header into its answer must not put the token in an error, a log line
// or a report.
type scrubber struct {
	token []byte
	r     *strings.Replacer // nil when there is no token
}

func newScrubber(token Secret) scrubber {
	t := token.Reveal()
	if t == "" {
		// An empty old string would match between every two bytes.
		return scrubber{}
	}
	return scrubber{token: []byte(t), r: strings.NewReplacer("Bearer "+t, redacted, t, redacted)}
}

// text returns s without the token.
func (s scrubber) text(v string) string {
	if s.r == nil || !strings.Contains(v, string(s.token)) {
		return v
	}
	return s.r.Replace(v)
}

// bytes returns b without the token; b itself when it holds none, so a
// large answer is not copied.
func (s scrubber) bytes(b []byte) []byte {
	if s.r == nil || !bytes.Contains(b, s.token) {
		return b
	}
	return []byte(s.r.Replace(string(b)))
}
