package cli

import (
	"errors"
	"strings"
	"testing"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// check's tally counts checks, not notes, and every failure leaves a hint,
// also one a run can go on with (exit 1) that no API error's hint covers.
func TestTallyChecks(t *testing.T) {
	odd := errors.New("status \"ODD\" is not one of ACTIVE, INACTIVE, PENDING, IMPORTED")
	for _, tt := range []struct {
		name    string
		results []pv.Check
		checks  int
		code    int
		hintHas string
	}{
		{"a shape", []pv.Check{
			{ID: checkTokenScopes, Note: true, OK: true},
			{ID: pv.CheckAPI, OK: true},
			{ID: pv.CheckConnectionFields, Err: odd, Detail: odd.Error()},
		}, 2, ExitFailedRows, "--report"},
		{"perkville_url", []pv.Check{
			{ID: checkTokenScopes, Note: true, OK: true},
			{ID: pv.CheckProgramURL, Err: odd},
			{ID: pv.CheckAdminRights, OK: true},
		}, 2, ExitFailedRows, "perkville_url"},
		{"fatal", []pv.Check{
			{ID: checkTokenScopes, Err: odd, Fatal: true},
		}, 1, ExitFatalAPI, "--report"},
	} {
		got := tallyChecks(tt.results, &endpoint{})
		if got.checks != tt.checks || got.failed != 1 || got.code != tt.code {
			t.Errorf("%s: %d checks, %d failed, exit %d; want %d, 1, %d", tt.name, got.checks, got.failed, got.code, tt.checks, tt.code)
		}
		if len(got.hints) == 0 || !strings.Contains(hintLines(got.hints), tt.hintHas) {
			t.Errorf("%s: hints %q, want one naming %s", tt.name, got.hints, tt.hintHas)
		}
	}
}
