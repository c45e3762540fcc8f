// Package progress shows how far a run is: a bar on a terminal, a plain log
// line every interval for cron and pipes, with rows done of total, rate and time left.
package progress
