package report

import "strconv"

// count names n things in words a person reads: "1 row", "2 rows".
func count[N ~int | ~int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(int64(n), 10) + " " + many
}
