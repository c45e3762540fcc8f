package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// tokenSource is where a command's token came from: the messages and hints
// about a token name it, so that the operator fixes the token that was used.
type tokenSource struct {
	// file is the file the token came from: --token-file's, or the default
	// token file login writes ("" for PERKVILLE_TOKEN or the sandbox's own).
	file string
	// loginFile says file is the default token file, used because neither
	// --token-file nor PERKVILLE_TOKEN was given.
	loginFile bool
	// sandbox says the token is the --sandbox world's own admin token.
	sandbox bool
}

// name is how messages name the source: the flag, the variable or the
// default token file.
func (s tokenSource) name() string {
	switch {
	case s.loginFile:
		return "token file " + s.file
	case s.file != "":
		return "--token-file " + s.file
	case s.sandbox:
		return "the sandbox's own token"
	}
	return "PERKVILLE_TOKEN"
}

// refusedHint says what to do about a token the API refused (401): the
// default token file is replaced by logging in again.
func (s tokenSource) refusedHint() string {
	switch {
	case s.loginFile:
		return "the token came from the default token file " + s.file + ", written by 'pvenroll login': log in again with 'pvenroll login --force'"
	case s.file != "":
		return "check the token in --token-file " + s.file + ", or replace it: pvenroll login --force --token-file " + s.file
	case s.sandbox:
		return "the sandbox's world names its tokens (--sandbox-world); pass one with --token-file PATH"
	}
	return "check the token in PERKVILLE_TOKEN (it is used before the default token file of 'pvenroll login')"
}

// readToken reads the bearer token from src: its file, else
// PERKVILLE_TOKEN. It
// is never a flag value, so it never shows in the process list. A token
// holding anything but printable ASCII (whitespace inside, a control
// character, a letter outside ASCII) is refused before any request, naming
// where it came from and never what it holds; a token file's leading UTF-8
// byte order mark is dropped. A token file that group or
// others may read gets a warning on warn, as ssh warns of a key file.
func readToken(src tokenSource, warn io.Writer) (string, error) {
	tokenFile := src.file
	if tokenFile == "" {
		t := strings.TrimSpace(os.Getenv("PERKVILLE_TOKEN"))
		if err := checkToken(t); err != nil {
			return "", usagef("PERKVILLE_TOKEN: %v", err)
		}
		return t, nil
	}
	f, err := os.Open(tokenFile)
	if err != nil {
		// os.Open's error names the file already
		kind := "--token-file"
		if src.loginFile {
			kind = "the default token file"
		}
		return "", usagef("%s: %w", kind, err)
	}
	defer f.Close()
	// A token is a few dozen bytes: a larger file is not a token file.
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", usagef("%s: %w", src.name(), err)
	}
	// Notepad saves UTF-8 with a byte order mark first: it is not part of
	// the token.
	t := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
	if t == "" {
		return "", usagef("%s: the file is empty; it must hold the token alone, on one line", src.name())
	}
	if err := checkToken(t); err != nil {
		return "", usagef("%s: %v; the file must hold the token alone, on one line", src.name(), err)
	}
	// Windows has no mode bits (Go derives them from the read-only
	// attribute alone), and its ACLs are not checked: nothing is said there,
	// and the README's Windows section says so.
	if fi, err := f.Stat(); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(warn, "warning: token file %s is readable by others (mode %04o); run: chmod 600 %s\n",
			tokenFile, fi.Mode().Perm(), tokenFile)
	}
	return t, nil
}

// checkToken refuses what cannot be a bearer token; the message says what
// kind of character is wrong and where, never the token.
func checkToken(t string) error {
	for i, r := range t {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			return fmt.Errorf("the token holds whitespace at character %d (a token is one word)", i+1)
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("the token holds a control character at character %d", i+1)
		case r > 0x7e:
			return fmt.Errorf("the token holds a non-ASCII character at character %d (a copy from a document may have changed a letter)", i+1)
		}
	}
	return nil
}
