package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pvenroll/pvenroll/samples"
)

func newSamplesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "samples [DIR]",
		Short: "Write the sample exports, the sandbox world and the deploy files into DIR (default: samples)",
		Long: `Write the files this tool ships as samples into DIR (default: samples), so
that the examples of the help and of the README run from any folder:
members.csv (a sample export with every outcome), exports/ (an export of each
--preset's shape), sandbox-world.json (the sandbox's default world) and
deploy/ (a nightly wrapper, crontab, systemd units, a Kubernetes CronJob, and
in windows/ the wrapper in PowerShell with a script that registers it with
Task Scheduler).
A file already there with the same content is left alone; one that differs
is never overwritten.`,
		Example: `  pvenroll samples
  pvenroll enroll --sandbox --dry-run --rate 0 samples/members.csv`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := "samples"
			if len(args) == 1 {
				dir = args[0]
			}
			return writeSamples(c, dir)
		},
	}
}

// writeSamples writes every sample file under dir, or none if one would
// replace a different file.
func writeSamples(c *cobra.Command, dir string) error {
	type file struct {
		path string
		data []byte
		same bool
	}
	var files []file
	var differ []string
	err := fs.WalkDir(samples.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := samples.Files.ReadFile(p)
		if err != nil {
			return err
		}
		f := file{path: filepath.Join(dir, filepath.FromSlash(p)), data: data}
		old, err := os.ReadFile(f.path)
		switch {
		case err == nil && bytes.Equal(old, data):
			f.same = true
		case err == nil:
			differ = append(differ, f.path)
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return err
	}
	if len(differ) > 0 {
		return usageError{withHint(fmt.Errorf("%s: already there, with other content; nothing was written", strings.Join(differ, ", ")),
			"write the samples into another folder: pvenroll samples DIR")}
	}
	out := c.OutOrStdout()
	for _, f := range files {
		if f.same {
			continue
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(f.path, ".sh") {
			mode = 0o755
		}
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f.path, f.data, mode); err != nil {
			return err
		}
		fmt.Fprintln(out, "wrote", f.path)
	}
	fmt.Fprintf(out, "try: pvenroll enroll --sandbox --dry-run --rate 0 %s\n", filepath.Join(dir, "members.csv"))
	return nil
}
