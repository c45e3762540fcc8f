package cli

import (
	"fmt"
	"math"

	"github.com/pvenroll/pvenroll/enroll"
)

// checkPace refuses a --rate, --workers or --retries no run can use: a
// negative count, a rate that is not a finite number (strconv reads "NaN"
// and "Inf", and NaN passes every comparison), or more workers than
// enroll.MaxWorkers.
func checkPace(rate float64, workers, retries int) error {
	switch {
	case math.IsNaN(rate) || math.IsInf(rate, 0) || rate < 0:
		return usageError{withHint(fmt.Errorf("--rate %v: not a rate", rate),
			"--rate is requests per second, a number 0 or more (0: unlimited), e.g. --rate 10")}
	case workers < 0 || workers > enroll.MaxWorkers:
		return usageError{withHint(fmt.Errorf("--workers %d: out of range", workers),
			fmt.Sprintf("--workers is from 1 to %d rows in flight (0 or unset: enough to keep --rate busy)", enroll.MaxWorkers))}
	case retries < 0:
		return usagef("--retries %d: a number of retries is 0 or more", retries)
	}
	return nil
}
