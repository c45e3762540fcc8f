package enroll_test

import (
	"os"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// refusedAs is the outcome a real run gives a would-join row at each risk.
var refusedAs = map[enroll.Risk]enroll.Outcome{
	enroll.RiskMembershipNotActive:     enroll.MembershipInactive,
	enroll.RiskExportInactive:          enroll.MembershipInactive,
	enroll.RiskAgreementWithoutConsent: enroll.NeedsAgreement,
}

// sampleWorld is the demo's sandbox world, with the tests' admin token.
func sampleWorld(t *testing.T) *sandbox.World {
	t.Helper()
	world, err := sandbox.LoadWorld("../samples/sandbox-world.json")
	if err != nil {
		t.Fatal(err)
	}
	world.Tokens = append(world.Tokens, sandbox.Token{Token: adminToken, Name: "test", UserID: 1, Scopes: []string{pv.ScopeAdminCustomerInfo}, StaffOf: []int64{25}})
	return world
}

// TestDryRunRisksForeseeTheRealRun runs the demo (the sample export against
// the sample world) dry, then for real on a fresh world: would-join less the
// rows at risk is the real run's joined, apart from conflicts and failures
// that no read can foresee; and each row at risk is refused for its reason.
func TestDryRunRisksForeseeTheRealRun(t *testing.T) {
	data, err := os.ReadFile("../samples/members.csv")
	if err != nil {
		t.Fatal(err)
	}
	world := sampleWorld(t)
	c := runCase{csv: string(data), consent: "Terms Accepted At", workers: 8,
		policy: enroll.Policy{CreateMissing: true, SystemID: "RIVERSIDE_ABC"}}
	dryServer := sandbox.NewServer(world, sandbox.Faults{})
	defer dryServer.Close()
	dc := c
	dc.policy.DryRun = true
	dry, _, _ := run(t, dryServer, dc)
	realServer := sandbox.NewServer(world, sandbox.Faults{})
	defer realServer.Close()
	real, _, _ := run(t, realServer, c)
	if len(dry) != len(real) {
		t.Fatalf("%d rows dry, %d for real", len(dry), len(real))
	}
	wouldJoin, atRisk, joined, unforeseeable := 0, map[enroll.Risk]int{}, 0, 0
	for i, d := range dry {
		r := real[i]
		if r.Outcome == enroll.Joined {
			joined++
		}
		if r.Outcome == enroll.MembershipInactive && !strings.Contains(r.Detail, "(external_membership_status), and the business requires an active one to join: ") {
			t.Errorf("line %d: membership-inactive does not say what the business must act on: %q", r.Line, r.Detail)
		}
		if d.Outcome != enroll.WouldJoin {
			continue
		}
		wouldJoin++
		switch {
		case d.Risk != "":
			atRisk[d.Risk]++
		case r.Outcome == enroll.Conflict || r.Outcome == enroll.Failed:
			unforeseeable++
		}
	}
	agreeRowByRow(t, dry, real)
	risky := 0
	for _, n := range atRisk {
		risky += n
	}
	t.Logf("would-join %d, at risk %v, joined %d, conflicts and failures %d", wouldJoin, atRisk, joined, unforeseeable)
	if wouldJoin-risky != joined+unforeseeable {
		t.Fatalf("would-join %d - at risk %d = %d, want joined %d + conflicts and failures %d", wouldJoin, risky, wouldJoin-risky, joined, unforeseeable)
	}
	if atRisk[enroll.RiskMembershipNotActive] == 0 || joined == 0 || unforeseeable == 0 {
		t.Fatalf("the sample world no longer shows every case: at risk %v, joined %d, unforeseeable %d", atRisk, joined, unforeseeable)
	}
}

// agreeRowByRow fails t where a dry run's row does not foretell the real
// run's: a row at risk is refused for its reason, a would-join with no
// risk joins (or meets a conflict or failure that no read can foresee),
// and any other outcome is the real run's own.
func agreeRowByRow(t *testing.T, dry, real []enroll.Result) {
	t.Helper()
	if len(dry) != len(real) {
		t.Fatalf("%d rows dry, %d for real", len(dry), len(real))
	}
	for i, d := range dry {
		r := real[i]
		switch {
		case d.Outcome != enroll.WouldJoin:
			if r.Outcome != d.Outcome {
				t.Errorf("line %d: dry run %s (%s), but the real run says %s (%s)", d.Line, d.Outcome, d.Detail, r.Outcome, r.Detail)
			}
		case d.Risk != "":
			if r.Outcome != refusedAs[d.Risk] {
				t.Errorf("line %d: at risk (%s), but the real run says %s (%s)", d.Line, d.Risk, r.Outcome, r.Detail)
			}
		case r.Outcome != enroll.Joined && r.Outcome != enroll.Conflict && r.Outcome != enroll.Failed:
			t.Errorf("line %d: would-join with no risk (%s), but the real run says %s (%s)", d.Line, d.Detail, r.Outcome, r.Detail)
		}
	}
}

// TestDryRunForetellsTheRehearsal is the README's rehearsal (the ABC Ignite
// sample by its preset, --create-missing, its consent column) dry, then for
// real on the same sandbox world: they agree row by row. Sam Park, created
// INACTIVE by the preset's rule and without consent, is refused for his
// membership before the terms, and the dry run says so.
func TestDryRunForetellsTheRehearsal(t *testing.T) {
	data, err := os.ReadFile("../samples/exports/abc-ignite.csv")
	if err != nil {
		t.Fatal(err)
	}
	world := sampleWorld(t)
	preset, err := export.LookupPreset("abc-ignite")
	if err != nil {
		t.Fatal(err)
	}
	s := sandbox.NewServer(world, sandbox.Faults{})
	defer s.Close()
	c := runCase{csv: string(data), consent: "Terms Accepted At", preset: preset, workers: 4,
		policy: enroll.Policy{CreateMissing: true, SystemID: preset.SystemID}}
	dc := c
	dc.policy.DryRun = true
	dry, _, _ := run(t, s, dc)
	real, _, _ := run(t, s, c)
	agreeRowByRow(t, dry, real)
	for i, d := range dry {
		if d.Email != "sam.park@example.com" {
			continue
		}
		if d.Outcome != enroll.WouldJoin || d.Risk != enroll.RiskExportInactive {
			t.Errorf("sam.park: dry run %s risk %q (%s), want would-join at risk %q", d.Outcome, d.Risk, d.Detail, enroll.RiskExportInactive)
		}
		// The refusal says what the business must act on.
		const want = "Perkville holds the membership as INACTIVE (external_membership_status), and the business requires an active one to join: renew it in the membership system"
		if r := real[i]; r.Outcome != enroll.MembershipInactive || !strings.Contains(r.Detail, want) {
			t.Errorf("sam.park: real run %s (%s), want %s with %q", r.Outcome, r.Detail, enroll.MembershipInactive, want)
		}
		return
	}
	t.Fatal("no row for sam.park")
}

// TestDryRunRiskReasons: each reason, from the read that foresees it.
func TestDryRunRiskReasons(t *testing.T) {
	// One worker: the first row is a new member read before any
	// agreements view has taught the run the program's terms.
	const csv = `email,member id,membership status,consent
new@x.co,N-1,active,
lapsed@x.co,,,
newi@x.co,N-3,inactive,2026-11-20T10:04:00Z
join@x.co,,active,
both@x.co,,,
`
	c := runCase{csv: csv, consent: "consent", workers: 1, policy: enroll.Policy{CreateMissing: true, SystemID: "SYS"}}
	dryServer := sandbox.NewServer(smallWorld(), sandbox.Faults{})
	defer dryServer.Close()
	dc := c
	dc.policy.DryRun = true
	dry, _, _ := run(t, dryServer, dc)
	realServer := sandbox.NewServer(smallWorld(), sandbox.Faults{})
	defer realServer.Close()
	real, _, _ := run(t, realServer, c)
	want := []struct {
		risk enroll.Risk
		real enroll.Outcome
	}{
		{enroll.RiskAgreementWithoutConsent, enroll.NeedsAgreement},
		{enroll.RiskMembershipNotActive, enroll.MembershipInactive},
		{enroll.RiskExportInactive, enroll.MembershipInactive},
		{"", enroll.Joined},
		// Terms not accepted either: the membership is checked first.
		{enroll.RiskMembershipNotActive, enroll.MembershipInactive},
	}
	for i, w := range want {
		if dry[i].Outcome != enroll.WouldJoin || dry[i].Risk != w.risk || real[i].Outcome != w.real {
			t.Errorf("line %d: dry %s risk %q, real %s; want would-join risk %q, real %s", dry[i].Line, dry[i].Outcome, dry[i].Risk, real[i].Outcome, w.risk, w.real)
		}
	}
	if d := dry[4].Detail; !strings.Contains(d, "membership is INACTIVE: if the business requires an active membership the join will be refused; if not, the customer has not accepted the program terms") {
		t.Errorf("line %d: the detail does not say both refusals in their order: %q", dry[4].Line, d)
	}
	if dry[2].ExportMembership != pv.StatusInactive || dry[3].ExportMembership != pv.StatusActive || dry[1].ExportMembership != "" {
		t.Errorf("export membership %q %q %q", dry[1].ExportMembership, dry[2].ExportMembership, dry[3].ExportMembership)
	}
}
