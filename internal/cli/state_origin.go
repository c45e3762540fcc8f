package cli

import (
	"path/filepath"
	"strings"

	"github.com/pvenroll/pvenroll/internal/ledger"
)

// origin is the API and business of the run, as its state file records
// them. The built-in sandbox listens on a new port each run, so it is
// named, not located.
func (e *endpoint) origin() ledger.Origin {
	if e.sandbox != nil {
		return ledger.Origin{API: "built-in sandbox", Business: e.business}
	}
	return ledger.Origin{API: strings.TrimRight(strings.ToLower(e.url), "/"), Business: e.business}
}

// otherStateName suggests a state file beside path for another API or
// business: pvenroll.db → pvenroll-2.db.
func otherStateName(path string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-2" + ext
}
