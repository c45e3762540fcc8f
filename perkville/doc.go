// Package perkville is the client of the parts of the Perkville v2 API that
// pvenroll relies on: paced, retried, bounded, and believing no answer unchecked.
package perkville
