// Package ledger is the run ledger behind --state, the enroll.Memory of a run: it resumes a
// run after a crash, lets nightly runs skip unchanged rows, and remembers who opted out.
package ledger
