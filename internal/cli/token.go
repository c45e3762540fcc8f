package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// readToken reads the bearer token: --token-file beats PERKVILLE_TOKEN. It
// is never a flag value, so it never shows in the process list. A token
// holding anything but printable ASCII (whitespace inside, a control
// character, a letter outside ASCII) is refused before any request, naming
// where it came from and never what it holds; a token file's leading UTF-8
// byte order mark is dropped. A token file that group or
// others may read gets a warning on warn, as ssh warns of a key file.
func readToken(tokenFile string, warn io.Writer) (string, error) {
	if tokenFile == "" {
		t := strings.TrimSpace(os.Getenv("PERKVILLE_TOKEN"))
		if err := checkToken(t); err != nil {
			return "", usagef("PERKVILLE_TOKEN: %v", err)
		}
		return t, nil
	}
	f, err := os.Open(tokenFile)
	if err != nil {
		return "", usagef("--token-file: %w", err)
	}
	defer f.Close()
	// A token is a few dozen bytes: a larger file is not a token file.
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", usagef("--token-file %s: %w", tokenFile, err)
	}
	// Notepad saves UTF-8 with a byte order mark first: it is not part of
	// the token.
	t := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
	if t == "" {
		return "", usagef("--token-file %s: the file is empty; it must hold the token alone, on one line", tokenFile)
	}
	if err := checkToken(t); err != nil {
		return "", usagef("--token-file %s: %v; the file must hold the token alone, on one line", tokenFile, err)
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
