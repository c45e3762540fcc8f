package progress

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/report"
)

// clock is a fake clock the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 29, 2, 15, 0, 0, time.UTC)} }
func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// lastFrame is what a terminal shows after w's writes: the text after the
// last carriage return that is not blank.
func lastFrame(w *bytes.Buffer) string {
	frames := strings.Split(w.String(), "\r")
	for i := len(frames) - 1; i >= 0; i-- {
		if f := strings.TrimSpace(frames[i]); f != "" {
			return f
		}
	}
	return ""
}

func TestBarOpensWithoutARate(t *testing.T) {
	var w bytes.Buffer
	c := newClock()
	sum := report.NewSummary()
	p := newBar(&w, 183, sum, c.now, func() int { return 120 })
	p.draw(false)
	first := lastFrame(&w)
	if !strings.Contains(first, "0/183 rows · measuring rate") || strings.Contains(first, "rows/h") || strings.Contains(first, "left") {
		t.Fatalf("first frame: %q", first)
	}
	// one row within the first second: still no rate worth showing
	sum.Add(enroll.Result{Outcome: enroll.Joined})
	c.advance(time.Second)
	p.draw(false)
	if f := lastFrame(&w); !strings.Contains(f, "1/183 rows · measuring rate · joined=1") {
		t.Fatalf("after 1 s: %q", f)
	}
}

func TestBarCountsRowsFinished(t *testing.T) {
	var w bytes.Buffer
	c := newClock()
	sum := report.NewSummary()
	p := newBar(&w, 10, sum, c.now, func() int { return 120 })
	for i := 1; i <= 9; i++ {
		if i == 9 {
			sum.Add(enroll.Result{Outcome: enroll.Failed})
		} else {
			sum.Add(enroll.Result{Outcome: enroll.Joined})
		}
		c.advance(500 * time.Millisecond)
		p.draw(false)
		f := lastFrame(&w)
		want := regexp.MustCompile(`^\s*(\d+)% \[[=>.]+\]\s+(\d+)/10 rows`)
		m := want.FindStringSubmatch(f)
		if m == nil || m[2] != strconv.Itoa(i) || m[1] != strconv.Itoa(i*10) {
			t.Fatalf("after %d rows: %q", i, f)
		}
	}
	// 9 rows in 4.5 s: 2 rows/s, and too few rows and seconds for a time left
	if f := lastFrame(&w); !strings.Contains(f, "9/10 rows · 2.0 rows/s · joined=8 failed=1") {
		t.Fatalf("rate without a time left: %q", f)
	}
}

func TestBarLastFrame(t *testing.T) {
	var w bytes.Buffer
	c := newClock()
	// the estimate counted one record more than the reader found
	sum := report.NewSummary()
	p := newBar(&w, 4, sum, c.now, func() int { return 120 })
	for range 3 {
		sum.Add(enroll.Result{Outcome: enroll.AlreadyActive})
	}
	c.advance(75 * time.Second)
	p.Done()
	if f := lastFrame(&w); !strings.Contains(f, "100% [") || !strings.Contains(f, "3/3 rows in 1m15s · already-active=3") {
		t.Fatalf("last frame: %q", f)
	}
	if !strings.HasSuffix(w.String(), "\n") {
		t.Fatal("the last frame's line is not ended: the summary would print over it")
	}
}

func TestBarUnknownTotal(t *testing.T) {
	var w bytes.Buffer
	c := newClock()
	sum := report.NewSummary()
	p := newBar(&w, -1, sum, c.now, func() int { return 120 })
	defer p.Done()
	sum.Add(enroll.Result{Outcome: enroll.Joined})
	c.advance(4 * time.Second)
	p.draw(false)
	if f := lastFrame(&w); !strings.Contains(f, "1 row · 15.0 rows/min · joined=1") || strings.Contains(f, "left") {
		t.Fatalf("standard input: %q", f)
	}
}

func TestFitKeepsOneLine(t *testing.T) {
	long := strings.Repeat("needs-agreement=1 ", 20)
	if got := fit(long, 40); len([]rune(got)) > 40 || !strings.HasSuffix(got, " …") {
		t.Fatalf("fit: %q", got)
	}
	// No count is cut short: the line ends after a whole word.
	words := "183 rows · 13 rows/s · joined=40 would-join=12 needs-agreement=7"
	for n := 10; n < len(words); n++ {
		got := fit(words, n)
		if len([]rune(got)) > n {
			t.Fatalf("fit(%d) = %q: %d columns", n, got, len([]rune(got)))
		}
		kept := strings.TrimSuffix(got, " …")
		if !strings.HasPrefix(words, kept) {
			t.Fatalf("fit(%d) = %q: not a prefix", n, got)
		}
		if rest := words[len(kept):]; rest != "" && rest[0] != ' ' && !strings.HasPrefix(rest, "·") {
			t.Fatalf("fit(%d) = %q: cuts %q short", n, got, words)
		}
	}
	if got := fit("short", 40); got != "short" {
		t.Fatalf("fit: %q", got)
	}
}

func TestWords(t *testing.T) {
	for _, c := range []struct {
		rate float64
		want string
	}{{0, "measuring rate"}, {63.24, "63 rows/s"}, {2.5, "2.5 rows/s"}, {0.25, "15.0 rows/min"}, {0.001, "3.6 rows/h"}} {
		if got := rateText(c.rate); got != c.want {
			t.Errorf("rateText(%v) = %q, want %q", c.rate, got, c.want)
		}
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{-1, "unknown"}, {1400 * time.Millisecond, "1s"}, {90 * time.Second, "1m30s"}, {754 * time.Second, "13m"}, {2*time.Hour + 5*time.Minute + 40*time.Second, "2h06m"}} {
		if got := durationText(c.d); got != c.want {
			t.Errorf("durationText(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestCountRecords(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"", 0},
		{"email\n", 1},
		{"email\na@x\nb@x\n", 3},
		{"email\na@x\nb@x", 3},             // no newline at the end
		{"email\r\na@x\r\n\r\nb@x\r\n", 3}, // CRLF and a blank line
		{"email,note\na@x,\"two\nlines\"\nb@x,\"\"\"\"\n", 3}, // a quoted newline, an escaped quote
	} {
		got, err := countRecords(strings.NewReader(c.in))
		if err != nil || got != c.want {
			t.Errorf("countRecords(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

// chanHandler hands each log record to the test.
type chanHandler struct{ ch chan slog.Record }

func (h chanHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h chanHandler) Handle(_ context.Context, r slog.Record) error {
	h.ch <- r
	return nil
}
func (h chanHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h chanHandler) WithGroup(string) slog.Handler      { return h }

func TestLogProgressLine(t *testing.T) {
	ch := make(chan slog.Record, 1)
	ticks := make(chan time.Time)
	c := newClock()
	sum := report.NewSummary()
	p := newLogProgress(slog.New(chanHandler{ch}), ticks, c.now, 10, sum)
	defer p.Done()
	next := func() map[string]string {
		t.Helper()
		select {
		case ticks <- c.now():
		case <-time.After(10 * time.Second):
			t.Fatal("the progress loop took no tick within 10 s")
		}
		var rec slog.Record
		select {
		case rec = <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("no progress line within 10 s of a tick")
		}
		if rec.Message != "progress" {
			t.Fatalf("message %q", rec.Message)
		}
		attrs := map[string]string{}
		rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		return attrs
	}
	// before any row: done and total, no rate, no time left
	if a := next(); a["done"] != "0" || a["total"] != "10" || a["rows_per_s"] != "" || a["left"] != "" {
		t.Fatalf("first line: %v", a)
	}
	sum.Add(enroll.Result{Outcome: enroll.Joined})
	sum.Add(enroll.Result{Outcome: enroll.Joined})
	sum.Add(enroll.Result{Outcome: enroll.Failed})
	c.advance(30 * time.Second)
	if a := next(); a["done"] != "3" || a["total"] != "10" || a["rows_per_s"] != "0.1" || a["left"] != "" || a["outcomes"] != "joined=2 failed=1" {
		t.Fatalf("after 3 rows in 30 s (too few for a time left): %v", a)
	}
}

// fakeCounts are counts the test sets.
type fakeCounts struct{ rows int }

func (f *fakeCounts) Snapshot() report.Tally { return report.Tally{Rows: f.rows} }

// The time left waits for 20 rows and 5 seconds, then follows a smoothed
// rate: a burst moves it a little, a lasting change all the way.
func TestEstimateWaitsThenSmooths(t *testing.T) {
	c := newClock()
	counts := &fakeCounts{}
	tl := newTally(counts, c.now(), 1000)
	at := func(d time.Duration, rows int) status {
		c.advance(d)
		counts.rows = rows
		return tl.status(c.now())
	}
	if s := at(3*time.Second, 4); s.Left >= 0 {
		t.Fatalf("4 rows in 3 s: time left %s", s.Left)
	}
	if s := at(7*time.Second, 19); s.Left >= 0 {
		t.Fatalf("19 rows in 10 s: time left %s", s.Left)
	}
	fast := newTally(counts, c.now(), 1000)
	c.advance(4 * time.Second)
	counts.rows = 40
	if s := fast.status(c.now()); s.Left >= 0 {
		t.Fatalf("40 rows in 4 s: time left %s", s.Left)
	}
	// 50 rows in 5 s: 10 rows/s, 950 rows left
	c.advance(time.Second)
	counts.rows = 50
	s := fast.status(c.now())
	if s.Rate != 10 || s.Left != 95*time.Second {
		t.Fatalf("50 rows in 5 s: rate %v, left %s; want 10 rows/s, 1m35s", s.Rate, s.Left)
	}
	// a burst of 100 rows in a second moves the rate a little
	c.advance(time.Second)
	counts.rows = 150
	s = fast.status(c.now())
	if s.Rate <= 10 || s.Rate >= 20 {
		t.Fatalf("after a burst of 100 rows/s for 1 s: rate %v, want a little over 10", s.Rate)
	}
	// asked again within the second: the same estimate
	c.advance(200 * time.Millisecond)
	if again := fast.status(c.now()); again.Rate != s.Rate {
		t.Fatalf("200 ms later: rate %v, then %v", s.Rate, again.Rate)
	}
	// two minutes at 5 rows/s: the rate comes down to it
	for range 24 {
		c.advance(5 * time.Second)
		counts.rows += 25
		s = fast.status(c.now())
	}
	if s.Rate < 4.5 || s.Rate > 5.5 {
		t.Fatalf("after 2 minutes at 5 rows/s: rate %v", s.Rate)
	}
	// a stall: the rate decays, and a time left past 100 h is unknown
	for range 100 {
		c.advance(time.Hour)
		s = fast.status(c.now())
	}
	if s.Left >= 0 {
		t.Fatalf("after a 100 h stall: time left %s", s.Left)
	}
}
