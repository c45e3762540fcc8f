package perkville

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
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

// scrubber removes the bearer token from text the server sent: a server
// that echoes the request's Authorization header into its answer must not
// put the token in an error, a log line, a report or a customer message.
// It removes the token, its "Bearer " form, and any piece of it of
// minPiece characters or more: what is left of it where the text was cut
// (by the server, or by a truncation here) or split.
type scrubber struct {
	*scrubState // behind a pointer: a %v of a client prints no piece of the token
}

type scrubState struct {
	token  string
	r      *strings.Replacer
	pieces map[string]struct{} // every minPiece-long piece of the token
}

// minPiece is the shortest piece of the token taken out: shorter ones
// would take out ordinary text, and say too little of a token to use it.
const minPiece = 8

func newScrubber(token Secret) scrubber {
	t := token.Reveal()
	if t == "" {
		// An empty old string would match between every two bytes.
		return scrubber{}
	}
	s := &scrubState{token: t, r: strings.NewReplacer("Bearer "+t, redacted, t, redacted), pieces: map[string]struct{}{}}
	for i := 0; i+minPiece <= len(t); i++ {
		s.pieces[t[i:i+minPiece]] = struct{}{}
	}
	return scrubber{s}
}

// text returns v without the token or any piece of it.
func (s scrubber) text(v string) string {
	if s.scrubState == nil || len(v) < min(minPiece, len(s.token)) {
		return v
	}
	if strings.Contains(v, s.token) {
		v = s.r.Replace(v)
	}
	if len(s.pieces) == 0 {
		return v
	}
	var b strings.Builder
	done := 0 // v[:done] is in b, or needs no change
	for i := 0; i+minPiece <= len(v); i++ {
		if _, ok := s.pieces[v[i:i+minPiece]]; !ok {
			continue
		}
		// The longest piece of the token starting here.
		j := i + minPiece
		for j < len(v) && strings.Contains(s.token, v[i:j+1]) {
			j++
		}
		b.WriteString(v[done:i])
		b.WriteString(redacted)
		done, i = j, j-1
	}
	if done == 0 {
		return v
	}
	b.WriteString(v[done:])
	return b.String()
}

// bytes returns b without the token; b itself when it holds none, so a
// large answer is not copied.
func (s scrubber) bytes(b []byte) []byte {
	if s.scrubState == nil || !s.holds(b) {
		return b
	}
	return []byte(s.text(string(b)))
}

// holds reports whether b may hold the token or a piece of it.
func (s scrubber) holds(b []byte) bool {
	if len(s.pieces) == 0 {
		return bytes.Contains(b, []byte(s.token))
	}
	for i := 0; i+minPiece <= len(b); i++ {
		if _, ok := s.pieces[string(b[i:i+minPiece])]; ok {
			return true
		}
	}
	return false
}

// decoded scrubs, in place, every string an answer was decoded into (v is
// the pointer given to json.Unmarshal): JSON may spell the token with
// escapes ("\u0068…") that only decoding turns back into the token, so the
// raw bytes cannot be scrubbed instead. A json.RawMessage is decoded,
// scrubbed and encoded again.
func (s scrubber) decoded(v any) {
	if s.scrubState != nil {
		s.walk(reflect.ValueOf(v))
	}
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// walk scrubs what v holds, and reports whether it changed anything.
func (s scrubber) walk(v reflect.Value) bool {
	if s.scrubState == nil {
		return false
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return false
		}
		e := v.Elem()
		if v.Kind() == reflect.Pointer || e.CanSet() {
			return s.walk(e)
		}
		// A value held in an interface (a decoded any) cannot be set in
		// place: scrub a copy and put it back.
		c := reflect.New(e.Type()).Elem()
		c.Set(e)
		if !s.walk(c) || !v.CanSet() {
			return false
		}
		v.Set(c)
		return true
	case reflect.String:
		t := s.text(v.String())
		if t == v.String() || !v.CanSet() {
			return false
		}
		v.SetString(t)
		return true
	case reflect.Struct:
		changed := false
		if v.CanAddr() && v.Addr().CanInterface() {
			if h, ok := v.Addr().Interface().(hiddenText); ok && h.scrubHidden(s.text) {
				changed = true
			}
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && s.walk(v.Field(i)) {
				changed = true
			}
		}
		return changed
	case reflect.Slice:
		if v.Type() == rawMessageType {
			return s.rawMessage(v)
		}
		fallthrough
	case reflect.Array:
		changed := false
		for i := range v.Len() {
			if s.walk(v.Index(i)) {
				changed = true
			}
		}
		return changed
	case reflect.Map:
		return s.walkMap(v)
	}
	return false
}

// walkMap scrubs a map's values, and its keys when they are strings.
func (s scrubber) walkMap(m reflect.Value) bool {
	changed := false
	for _, k := range m.MapKeys() {
		val := reflect.New(m.Type().Elem()).Elem()
		val.Set(m.MapIndex(k))
		key, keyChanged := k, false
		if k.Kind() == reflect.String {
			if t := s.text(k.String()); t != k.String() {
				key, keyChanged = reflect.New(k.Type()).Elem(), true
				key.SetString(t)
			}
		}
		if !s.walk(val) && !keyChanged {
			continue
		}
		changed = true
		m.SetMapIndex(k, reflect.Value{})
		m.SetMapIndex(key, val)
	}
	return changed
}

// rawMessage scrubs a json.RawMessage by decoding it (numbers kept as
// written) and encoding it again, if anything in it changed, or if its
// bytes hold a piece of the token that its decoded text does not (an
// escape's hex digits may spell one by chance: "\u002d34dcd1…").
func (s scrubber) rawMessage(v reflect.Value) bool {
	raw := v.Bytes()
	rawHolds := s.holds(raw)
	if !rawHolds && !bytes.Contains(raw, []byte{'\\'}) {
		return false // no piece of the token, and no escape that could spell one
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if dec.Decode(&x) != nil || !v.CanSet() {
		return false
	}
	if changed := s.walk(reflect.ValueOf(&x)); !changed && !rawHolds {
		return false
	}
	b, err := json.Marshal(x)
	if err != nil {
		return false
	}
	v.SetBytes(b)
	return true
}

// hiddenText is a decoded object that keeps server text where walk cannot
// reach it (an unexported field): it scrubs that text itself.
type hiddenText interface {
	scrubHidden(text func(string) string) bool
}

func (c *Connection) scrubHidden(text func(string) string) bool { return c.shape.scrub(text) }
func (a *Agreement) scrubHidden(text func(string) string) bool  { return a.shape.scrub(text) }

// scrub scrubs what each problem says the answer held.
func (p shapeProblems) scrub(text func(string) string) bool {
	changed := false
	for _, e := range p {
		if t := text(e.Seen); t != e.Seen {
			e.Seen, changed = t, true
		}
	}
	return changed
}
