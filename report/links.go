package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrSymlink refuses a report folder that holds a symbolic link: a link
// planted there (followup -> /somewhere) would have the writer overwrite,
// and a re-render delete, files outside the folder.
var ErrSymlink = errors.New("is a symbolic link; report files are never written or removed through a link")

// CheckNoLinks refuses dir if it, or anything under it, is a symbolic link.
// WalkDir does not follow links, so a linked folder is reported, not read.
func CheckNoLinks(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s %w", path, ErrSymlink)
		}
		return nil
	})
}

// realDir makes the folder path (0700) if it is missing, and refuses one
// that is a symbolic link or not a folder.
func realDir(path string) error {
	err := os.Mkdir(path, DirMode)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return err
	}
	return notALink(path)
}

// notALink refuses path if it is a symbolic link, or a file where a folder
// is expected; a missing path passes.
func notALink(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s %w", path, ErrSymlink)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a folder", path)
	}
	return nil
}
