package report

import (
	"strconv"
	"time"
)

// count names n things in words a person reads: "1 row", "2 rows".
func count[N ~int | ~int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(int64(n), 10) + " " + many
}

// Duration says how long a run took as a person reads it: milliseconds
// under a second ("730ms", where rounding to the second would say "1s" or
// "0s"), else to the second ("1m15s").
func Duration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
