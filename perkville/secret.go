package perkville

import (
	"fmt"
	"log/slog"
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
