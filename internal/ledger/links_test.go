package ledger

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --state on a link, even a dangling one, is refused: the ledger never
// creates or writes the file a link points to.
func TestStateFileLinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere.db")
	link := filepath.Join(dir, "state.db")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, readOnly := range []bool{false, true} {
		if l, err := Open(link, readOnly); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			if l != nil {
				l.Close()
			}
			t.Fatalf("Open(link, readOnly %v): %v", readOnly, err)
		}
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Fatalf("the link's target was created: %v", err)
	}
}
