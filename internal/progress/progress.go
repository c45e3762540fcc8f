package progress

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/pvenroll/pvenroll/report"
)

// Progress hears of every finished row, and of the run's end.
type Progress interface {
	Row(report.Outcome)
	Done()
}

// NoProgress shows nothing (-q).
type NoProgress struct{}

func (NoProgress) Row(report.Outcome) {}
func (NoProgress) Done()              {}

// tally counts rows per outcome; progressbar's own count is not readable
// while it is hidden, and a log line needs the breakdown anyway.
type tally struct {
	mu     sync.Mutex
	rows   int
	counts map[report.Outcome]int
	start  time.Time
}

func newTally() *tally { return &tally{counts: map[report.Outcome]int{}, start: time.Now()} }

func (t *tally) add(o report.Outcome) {
	t.mu.Lock()
	t.rows++
	t.counts[o]++
	t.mu.Unlock()
}

func (t *tally) snapshot() (int, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for _, o := range report.Outcomes {
		if n := t.counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", o, n))
		}
	}
	return t.rows, strings.Join(parts, " ")
}

// BarProgress draws a progress bar on a terminal.
type BarProgress struct {
	bar *progressbar.ProgressBar
	t   *tally
}

// NewBarProgress draws on w (a terminal: the caller checks). total < 0 when
// unknown (standard input).
func NewBarProgress(w io.Writer, total int64) *BarProgress {
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionClearOnFinish(),
	)
	return &BarProgress{bar: bar, t: newTally()}
}

func (p *BarProgress) Row(o report.Outcome) {
	p.t.add(o)
	_, counts := p.t.snapshot()
	p.bar.Describe(counts)
	_ = p.bar.Add(1)
}

func (p *BarProgress) Done() { _ = p.bar.Finish() }

// LogProgress logs a plain progress line every interval (for cron and
// pipes, where a bar's redraws would litter the log).
type LogProgress struct {
	t    *tally
	log  *slog.Logger
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// NewLogProgress logs every interval until Done.
func NewLogProgress(log *slog.Logger, interval time.Duration, total int64) *LogProgress {
	p := &LogProgress{t: newTally(), log: log, stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tk.C:
				rows, counts := p.t.snapshot()
				el := time.Since(p.t.start).Seconds()
				args := []any{"rows", rows, "rows_per_s", fmt.Sprintf("%.1f", float64(rows)/el), "outcomes", counts}
				if total > 0 {
					args = append(args, "of", total)
				}
				p.log.Info("progress", args...)
			}
		}
	}()
	return p
}

func (p *LogProgress) Row(o report.Outcome) { p.t.add(o) }

func (p *LogProgress) Done() {
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
}
