package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// writeShapeReport records, with GETs only, what the API answered shape by
// shape into path (the file to send Perkville support), and prints one
// line per way it differs from what pvenroll assumes, with what that means
// for a run. It returns how many differences make rows fail.
func writeShapeReport(ctx context.Context, out io.Writer, client *pv.Client, business int64, path string) (int, error) {
	rep := pv.RecordShapes(ctx, client, business)
	rep.Tool, rep.Taken = userAgent(), time.Now().UTC().Format(time.RFC3339)
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return 0, usageError{fmt.Errorf("--report: %w", err)}
	}
	failing := 0
	for _, s := range rep.Shapes {
		if s.Skipped != "" {
			fmt.Fprintf(out, "note %s: not read: %s\n", s.Shape, s.Skipped)
		}
		if s.Error != "" {
			// Errors and differences may quote the answer: terminal-safe.
			fmt.Fprintf(out, "FAIL %s (%s): %s\n", s.Shape, s.Request, termText(s.Error))
			failing++
		}
		for _, d := range s.Differences {
			mark := "diff"
			if d.FailsRows {
				mark, failing = "FAIL", failing+1
			}
			fmt.Fprintf(out, "%s %s: %s\n", mark, s.Shape, termText(d.Meaning))
		}
	}
	fmt.Fprintf(out, "report: %s (what the API answered, shape by shape: send it to Perkville support with your question)\n", path)
	return failing, nil
}
