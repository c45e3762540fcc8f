package report

// Files of a report are written through a hidden temporary file beside
// their name and renamed into place, so a crash never leaves a half file
// under the final name. A failed write names the final file and the real
// cause (no space left on device, file too large), not the temporary name.

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// atomicCSV writes a CSV to a hidden temporary file beside its name and
// renames it into place on Commit.
type atomicCSV struct {
	path   string
	tmp    *os.File
	w      *csv.Writer
	format csvFormat
}

func openAtomicCSV(path string, header []string, format csvFormat) (*atomicCSV, error) {
	tmp, err := CreateTemp(path)
	if err != nil {
		return nil, err
	}
	a := &atomicCSV{path: path, tmp: tmp, w: csv.NewWriter(tmp), format: format}
	a.w.Comma = format.comma
	if format.bom {
		if _, err := io.WriteString(tmp, utf8BOM); err != nil {
			a.Abort()
			return nil, fileError(path, err)
		}
	}
	if err := a.w.Write(header); err != nil {
		a.Abort()
		return nil, fileError(path, err)
	}
	return a, nil
}

func (a *atomicCSV) Write(rec []string) error {
	if a.format.neutralise {
		out := make([]string, len(rec))
		for i, c := range rec {
			out[i] = Neutralise(c)
		}
		rec = out
	}
	return fileError(a.path, a.w.Write(rec))
}

func (a *atomicCSV) Commit() error {
	a.w.Flush()
	if err := a.w.Error(); err != nil {
		a.Abort()
		return fileError(a.path, err)
	}
	return CommitTemp(a.tmp, a.path)
}

func (a *atomicCSV) Abort() {
	if a.tmp != nil {
		a.tmp.Close()
		os.Remove(a.tmp.Name())
		a.tmp = nil
	}
}

// fileError names the file a write was for, with the system's cause (a
// *fs.PathError would name the temporary file).
func fileError(path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// CreateTemp opens a hidden temporary file (0600) beside path, created
// exclusively (never an existing file, nor through a link).
func CreateTemp(path string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return nil, fileError(path, err)
	}
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fileError(path, err)
	}
	return f, nil
}

// CommitTemp syncs, closes and renames a temporary file into place.
func CommitTemp(f *os.File, path string) error {
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fileError(path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fileError(path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fileError(path, err)
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	f, err := CreateTemp(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fileError(path, err)
	}
	return CommitTemp(f, path)
}
