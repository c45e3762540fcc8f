package progress

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// drawEvery is how often the bar is redrawn: rows only count, so a run of a
// million rows costs a million increments, not a million redraws.
const drawEvery = 200 * time.Millisecond

// BarProgress draws a progress bar on a terminal:
//
//	[=========>..........]  48% 88/183 rows · 13 rows/s · 7s left · joined=40 …
type BarProgress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	drawn lockedBuffer // the bar's own writes, of which the last frame is shown
	shown int          // columns of the frame on screen, to blank the rest
	t     *tally
	now   func() time.Time
	width func() int
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

// NewBarProgress draws counts on w (a terminal: the caller checks) until
// Done. total < 0 when unknown (standard input).
func NewBarProgress(w io.Writer, total int64, counts Counts) *BarProgress {
	p := newBar(w, total, counts, time.Now, func() int { return termWidth(w) })
	tk := time.NewTicker(drawEvery)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer tk.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tk.C:
				p.draw(false)
			}
		}
	}()
	return p
}

// newBar is a bar drawn only by draw: tests call it with a fake clock.
func newBar(w io.Writer, total int64, counts Counts, now func() time.Time, width func() int) *BarProgress {
	max := total
	if max <= 0 {
		max = -1 // unknown: a spinner
	}
	p := &BarProgress{w: w, t: newTally(counts, now(), total), now: now, width: width, stop: make(chan struct{})}
	p.bar = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(&p.drawn),
		progressbar.OptionSetTheme(progressbar.ThemeASCII), // any console, Windows' too
		progressbar.OptionSetPredictTime(false),            // ours is honest from the start
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetWidth(20),
		progressbar.OptionSpinnerType(14),
	)
	// The first frame comes at the first tick, after the run's opening log lines.
	return p
}

// Done draws the last frame (rows done, the run's time) and ends the line.
func (p *BarProgress) Done() {
	p.once.Do(func() {
		close(p.stop)
		p.wg.Wait()
		p.draw(true)
	})
}

// draw shows the tally as one frame. The bar renders at each of the calls
// below; only its last frame, with count and words from one moment, is
// written to the terminal.
func (p *BarProgress) draw(last bool) {
	p.drawn.Reset()
	s := p.t.status(p.now())
	if last && s.Total >= 0 {
		s.Total = int64(s.Done) // a short or long estimate must not leave "183/184"
		p.bar.ChangeMax64(max(s.Total, 1))
	} else if s.Total >= 0 && int64(s.Done) >= s.Total {
		p.bar.ChangeMax64(s.Total + 1) // the bar finishes only in Done
	}
	_ = p.bar.Set64(int64(s.Done))
	p.bar.Describe(fit(barWords(s, last), p.width()-36))
	if last {
		_ = p.bar.Finish()
		_ = p.bar.Exit()
	}
	frames := strings.Split(p.drawn.take(), "\r")
	frame := ""
	for i := len(frames) - 1; i >= 0 && frame == ""; i-- {
		frame = strings.TrimRight(frames[i], " ")
	}
	cols := utf8.RuneCountInString(frame)
	fmt.Fprintf(p.w, "\r%s%s", frame, strings.Repeat(" ", max(p.shown-cols, 0)))
	p.shown = cols
	if last {
		fmt.Fprintln(p.w)
	}
}

// barWords is the text after the bar.
func barWords(s status, last bool) string {
	count := fmt.Sprintf("%d rows", s.Done)
	if s.Done == 1 {
		count = "1 row"
	}
	if s.Total >= 0 {
		count = fmt.Sprintf("%d/%d rows", s.Done, s.Total)
	}
	if last {
		w := count + " in " + durationText(s.Elapsed)
		if s.Outcomes != "" {
			w += " · " + s.Outcomes
		}
		return w
	}
	w := count + " · " + rateText(s.Rate)
	if s.Left >= 0 {
		w += " · " + durationText(s.Left) + " left"
	}
	if s.Outcomes != "" {
		w += " · " + s.Outcomes
	}
	return w
}

// fit cuts words to n columns, so the line never wraps (a wrapped line is
// redrawn one row lower at every frame). It cuts at a space, so that no
// count is cut short: "would-join=1…" would read as a count of 1.
func fit(words string, n int) string {
	r := []rune(words)
	if n < 10 {
		n = 10
	}
	if len(r) <= n {
		return words
	}
	cut := n - 2 // room for " …"
	for i := n - 2; i > 0; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	return strings.TrimRight(string(r[:cut]), " ·") + " …"
}

// lockedBuffer takes the bar's writes: from draw, and from the bar's own
// spinner goroutine when the total is unknown.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *lockedBuffer) Reset() {
	l.mu.Lock()
	l.b.Reset()
	l.mu.Unlock()
}

func (l *lockedBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return 80
}
