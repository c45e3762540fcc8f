package cli

import (
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// parseEnroll parses args as enroll's flags.
func parseEnroll(t *testing.T, args ...string) enrollOptions {
	t.Helper()
	var o enrollOptions
	f := pflag.NewFlagSet("enroll", pflag.ContinueOnError)
	o.add(f)
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o
}

// enroll's flags land straight in the values the packages take: nothing
// copies them on the way.
func TestEnrollFlagsBindIntoThePackagesValues(t *testing.T) {
	o := parseEnroll(t, "--dry-run", "--create-missing", "--system-id", "SYS", "--rejoin-inactive", "--sync-membership",
		"--accept-batch", "7", "--recheck-after", "72h", "--recheck-all",
		"--workers", "9", "--max-duration", "45m", "--stop-grace", "2s",
		"--rate", "2.5", "--retries", "3", "--timeout", "4s", "--backoff", "5ms", "--max-wait", "6m")
	wantPolicy := enroll.Policy{DryRun: true, CreateMissing: true, SystemID: "SYS", RejoinInactive: true, SyncMembership: true,
		RecheckAfter: 72 * time.Hour, RecheckAll: true}
	if o.Policy != wantPolicy {
		t.Errorf("Policy = %+v, want %+v", o.Policy, wantPolicy)
	}
	if r := o.Run; r.Workers != 9 || r.AcceptBatch != 7 || r.MaxDuration != 45*time.Minute || r.Grace != 2*time.Second {
		t.Errorf("Run = %+v", r)
	}
	c := o.Client
	if c.Rate != 2.5 || c.Retries != 3 || c.Timeout != 4*time.Second || c.BackoffBase != 5*time.Millisecond || c.MaxWait != 6*time.Minute {
		t.Errorf("Client = %+v", c)
	}
}

// resolve decides the defaults that depend on other flags or on the
// export, and leaves what was given alone.
func TestEnrollResolvesDefaults(t *testing.T) {
	if enroll.DefaultBatchWorkers(40) == enroll.DefaultWorkers(40) || pv.MaxAcceptanceBatch < 2 {
		t.Fatal("the cases below cannot tell batch workers from plain ones")
	}
	floor := time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)
	abc := export.ReaderOptions{Preset: export.Presets["abc-ignite"], Consent: export.ConsentRule{After: floor}}
	generic := export.ReaderOptions{Preset: export.Presets["generic"]}
	consenting := export.ReaderOptions{Preset: export.Presets["generic"], ConsentColumn: "Consent"}
	for _, tt := range []struct {
		name     string
		args     []string
		read     export.ReaderOptions
		systemID string
		workers  int
	}{
		{"the preset's system id", nil, abc, "ABC_IGNITE", enroll.DefaultWorkers(10)},
		{"a given system id, trimmed", []string{"--system-id", " MINE "}, abc, "MINE", enroll.DefaultWorkers(10)},
		{"no system id", nil, generic, "", enroll.DefaultWorkers(10)},
		{"workers from the rate", []string{"--rate", "40"}, generic, "", enroll.DefaultWorkers(40)},
		{"more workers for batched consents", []string{"--rate", "40"}, consenting, "", enroll.DefaultBatchWorkers(40)},
		{"no batch: workers from the rate", []string{"--rate", "40", "--accept-batch", "1"}, consenting, "", enroll.DefaultWorkers(40)},
		{"a dry run batches nothing", []string{"--rate", "40", "--dry-run"}, consenting, "", enroll.DefaultWorkers(40)},
		{"given workers", []string{"--rate", "40", "--workers", "3"}, consenting, "", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := parseEnroll(t, tt.args...)
			o.resolve(tt.read)
			if o.Policy.SystemID != tt.systemID {
				t.Errorf("system id %q, want %q", o.Policy.SystemID, tt.systemID)
			}
			if o.Run.Workers != tt.workers {
				t.Errorf("workers %d, want %d", o.Run.Workers, tt.workers)
			}
			wantFloor := ""
			if !tt.read.Consent.After.IsZero() {
				wantFloor = export.ISODate(tt.read.Consent.After)
			}
			g := enroll.New(nil, &pv.Business{}, o.Policy).Grounds(o.Run.Read)
			if g.SystemID != tt.systemID || g.Preset != tt.read.Preset.Name || g.ConsentColumn != tt.read.ConsentColumn || g.ConsentAfter != wantFloor {
				t.Errorf("grounds %+v, not the resolved policy's and reader's", g)
			}
		})
	}
}
