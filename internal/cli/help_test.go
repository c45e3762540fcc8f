package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// Every value a completion offers is one the command accepts, and every
// flag with a fixed set of values offers them.
func TestCompletionValuesAreAccepted(t *testing.T) {
	accepts := map[string]func(v string) error{
		"preset":    func(v string) error { _, err := (&readerFlags{Preset: v}).options("f"); return err },
		"delimiter": func(v string) error { _, err := (&readerFlags{Delimiter: v}).options("f"); return err },
		"encoding":  func(v string) error { _, err := (&readerFlags{Encoding: v}).options("f"); return err },
		"log-format": func(v string) error {
			_, err := newLogger(io.Discard, v, false)
			return err
		},
		"progress": checkProgress,
	}
	values := fixedValues()
	for flag, check := range accepts {
		if len(values[flag]) == 0 {
			t.Errorf("--%s offers no completion", flag)
		}
		for _, v := range values[flag] {
			v, _, _ = strings.Cut(v, "\t")
			if err := check(v); err != nil {
				t.Errorf("--%s offers %q, which is refused: %v", flag, v, err)
			}
		}
	}
	for flag := range values {
		if accepts[flag] == nil {
			t.Errorf("--%s offers completions this test does not check", flag)
		}
	}
	// a value outside the set is refused, so the set is the whole truth
	if err := accepts["delimiter"]("x"); err == nil {
		t.Error("--delimiter x accepted")
	}
}

// The shell asks `pvenroll __complete ...`; each command with such a flag answers.
func TestCompletionsPerCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"enroll", "--preset", ""}, "abc-ignite\t"},
		{[]string{"validate", "--preset", ""}, "csi-spectrum\t"},
		{[]string{"enroll", "--progress", ""}, "never\t"},
		{[]string{"enroll", "--log-format", ""}, "json\t"},
		{[]string{"validate", "--delimiter", ""}, "tab\t"},
		{[]string{"enroll", "--encoding", ""}, "windows-1252"},
		{[]string{"enroll", "--sandbox-world", ""}, "json"},
	} {
		var out, errOut bytes.Buffer
		if code := Main(append([]string{"__complete"}, c.args...), strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut.String())
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("%v: no %q in\n%s", c.args, c.want, out.String())
		}
	}
}
