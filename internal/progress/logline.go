package progress

import (
	"log/slog"
	"math"
	"sync"
	"time"
)

// LogProgress logs a plain progress line every interval (for cron and
// pipes, where a bar's redraws would litter the log):
//
//	msg=progress done=1897 total=10000 rows_per_s=63.2 left=2m8s outcomes="joined=…"
type LogProgress struct {
	t    *tally
	log  *slog.Logger
	now  func() time.Time
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// NewLogProgress logs counts every interval until Done. total < 0 when
// unknown.
func NewLogProgress(log *slog.Logger, interval time.Duration, total int64, counts Counts) *LogProgress {
	tk := time.NewTicker(interval)
	p := newLogProgress(log, tk.C, time.Now, total, counts)
	go func() {
		<-p.stop
		tk.Stop()
	}()
	return p
}

// newLogProgress logs a line at every tick: tests send the ticks.
func newLogProgress(log *slog.Logger, ticks <-chan time.Time, now func() time.Time, total int64, counts Counts) *LogProgress {
	p := &LogProgress{t: newTally(counts, now(), total), log: log, now: now, stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			select {
			case <-p.stop:
				return
			case <-ticks:
				p.line()
			}
		}
	}()
	return p
}

func (p *LogProgress) line() {
	s := p.t.status(p.now())
	args := []any{"done", s.Done}
	if s.Total >= 0 {
		args = append(args, "total", s.Total)
	}
	if s.Rate > 0 {
		args = append(args, "rows_per_s", math.Round(s.Rate*10)/10)
	}
	if s.Left >= 0 {
		args = append(args, "left", durationText(s.Left))
	}
	args = append(args, "outcomes", s.Outcomes)
	p.log.Info("progress", args...)
}

func (p *LogProgress) Done() {
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
}
