package progress

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/report"
)

// chanHandler hands each log record to the test.
type chanHandler struct{ ch chan slog.Record }

func (h chanHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h chanHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.ch <- r:
	default: // the test has what it needs: never block the ticker
	}
	return nil
}
func (h chanHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h chanHandler) WithGroup(string) slog.Handler      { return h }

func TestLogProgressLine(t *testing.T) {
	ch := make(chan slog.Record, 10)
	p := NewLogProgress(slog.New(chanHandler{ch}), time.Millisecond, 10)
	p.Row(report.Joined)
	p.Row(report.Joined)
	p.Row(report.Failed)
	defer p.Done()
	deadline := time.After(10 * time.Second)
	for {
		var rec slog.Record
		select {
		case rec = <-ch:
		case <-deadline:
			t.Fatal("no progress line with 3 rows within 10 s")
		}
		attrs := map[string]string{}
		rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		if attrs["rows"] != "3" {
			continue // a tick before the rows were counted
		}
		if rec.Message != "progress" || attrs["of"] != "10" || !strings.Contains(attrs["outcomes"], "joined=2 failed=1") {
			t.Fatalf("%s %v", rec.Message, attrs)
		}
		return
	}
}
