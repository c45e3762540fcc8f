package cli

import (
	"fmt"
	"math"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
)

// maxRetries is the most --retries takes. Each retry waits its backoff (at
// most 15 s) or the answer's Retry-After, and an outage is ridden out by
// the breaker without counting retries, so 20 already hold a request for
// minutes: a larger number is a typo, not a policy.
const maxRetries = 20

// checkPace refuses a --rate, --workers or --retries no run can use: a
// negative count, a rate that is not a finite number (strconv reads "NaN"
// and "Inf", and NaN passes every comparison), more workers than
// enroll.MaxWorkers, or more retries than maxRetries.
func checkPace(rate float64, workers, retries int) error {
	switch {
	case math.IsNaN(rate) || math.IsInf(rate, 0) || rate < 0:
		return usageError{withHint(fmt.Errorf("--rate %v: not a rate", rate),
			"--rate is requests per second, a number 0 or more (0: unlimited), e.g. --rate 10")}
	case workers < 0 || workers > enroll.MaxWorkers:
		return usageError{withHint(fmt.Errorf("--workers %d: out of range", workers),
			fmt.Sprintf("--workers is from 1 to %d rows in flight (0 or unset: enough to keep --rate busy)", enroll.MaxWorkers))}
	case retries < 0 || retries > maxRetries:
		return usageError{withHint(fmt.Errorf("--retries %d: out of range", retries),
			fmt.Sprintf("--retries is from 0 (no retry) to %d retries of one request", maxRetries))}
	}
	return nil
}

// flagDuration is a duration flag's name and value, for checkDurations.
type flagDuration struct {
	flag string
	d    time.Duration
}

// checkDurations refuses a negative duration, which every duration flag
// would otherwise take silently as its 0 (no limit, or its default).
func checkDurations(flags ...flagDuration) error {
	for _, f := range flags {
		if f.d < 0 {
			return usageError{withHint(fmt.Errorf("--%s %s: a length of time is 0 or more", f.flag, f.d),
				fmt.Sprintf("--%s takes a duration such as 30s, 10m or 1h30m", f.flag))}
		}
	}
	return nil
}
