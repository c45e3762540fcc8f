package bench

import (
	"os"
	"testing"
)

// TestMain runs the bench when PVENROLL_BENCH=1 (make bench). The bench is
// a test binary, not a command, so that `go install ./...` installs only
// pvenroll, while go vet, staticcheck and `go test ./...` still build it;
// without the variable it runs nothing (a bench run takes minutes).
func TestMain(m *testing.M) {
	if os.Getenv("PVENROLL_BENCH") != "1" {
		os.Exit(m.Run())
	}
	table() // parses the bench's flags, given after -args
	os.Exit(0)
}
