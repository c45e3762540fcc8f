// Package enroll decides each export row's fate against the Perkville API (row.go) and runs the
// rows through a rate-limited pool with one stop (run.go, stop.go); it reads no file and draws nothing.
//
// Configuration is apart from run state. An Enroller, made by New from its client, business and
// Policy (what the operator allowed), is read only after that. Each Run makes its own state
// (runstate.go) from the Enroller and its Options (workers, time limits, the acceptance batch, Memory,
// how the rows were read, the clock): the claims (claim.go), the business's agreements (agreements.go), its ACTIVE listing
// (active.go) and the batcher of acceptances (batcher.go), each with its own lock. A batch of
// acceptances and the ACTIVE listing serve many rows, so each runs on a context of its own, never
// on one row's: a row that stops stops waiting for them, and they go on for the others.
//
// It owns the run's vocabulary (outcome.go): the Outcome of a row, its Result and a dry run's Risk,
// and the resume rule (Outcome.Settled, Outcome.Recorded). The report renders []Result and the
// ledger stores Outcomes; both import enroll, never the reverse.
//
// What earlier runs learnt (--state) comes in through Memory, an interface defined here with only
// the calls enroll makes (Prior, Resumable, Record, Grounds); the run ledger, internal/ledger, implements it.
// So enroll does not depend on how memory is stored, its public types hold no internal one, and a
// test can hand it any memory.
package enroll
