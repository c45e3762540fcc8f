package report

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
)

// A link planted in a report folder is refused by `pvenroll report`, and
// the folder it points to keeps every file, unchanged.
func TestRerenderRefusesAPlantedLink(t *testing.T) {
	for _, planted := range []string{"followup", "summary.md", "report.csv", filepath.Join("followup", "conflict.csv")} {
		t.Run(planted, func(t *testing.T) {
			dir := writeReport(t, mix(12, enroll.Joined, enroll.NeedsAgreement, enroll.Failed, enroll.Invalid), false)
			elsewhere := t.TempDir()
			victim := filepath.Join(elsewhere, "conflict.csv")
			if err := os.WriteFile(victim, []byte("keep me\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, planted)
			if err := os.RemoveAll(link); err != nil {
				t.Fatal(err)
			}
			target := victim
			if planted == "followup" {
				target = elsewhere
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			if _, err := Rerender(dir); !errors.Is(err, ErrSymlink) {
				t.Fatalf("re-rendering a folder holding the link %s: %v", planted, err)
			}
			entries, err := os.ReadDir(elsewhere)
			if err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me\n" || len(entries) != 1 {
				t.Fatalf("the folder the link points to changed: %d files, %q, %v", len(entries), b, err)
			}
		})
	}
}

// The writer refuses a report folder that is a link, and a followup link
// planted while the run goes on: no file is written through it.
func TestWriterRefusesLinks(t *testing.T) {
	elsewhere := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	if err := os.Symlink(elsewhere, out); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(out); !errors.Is(err, ErrSymlink) {
		t.Fatalf("Prepare of a link to an empty folder: %v", err)
	}

	dir := filepath.Join(t.TempDir(), "out")
	if err := Prepare(dir); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "followup")); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(0, mix(1, enroll.Invalid)[0]); !errors.Is(err, ErrSymlink) {
		t.Fatalf("a follow-up through a planted link: %v", err)
	}
	w.Abort()
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Fatalf("%d files written through the link", len(entries))
	}
}
