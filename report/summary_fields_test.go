package report

import (
	"encoding/json"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
)

// summary.json holds the fields the README documents also when they are
// zero or empty, rather than leaving them out: outage_probes with no
// outage, the input's encoding, the preset's membership_from when no
// column gives the membership status.
func TestSummaryJSONFieldsAlwaysThere(t *testing.T) {
	meta := fixedMeta()
	meta.Preset = &PresetInfo{Name: "generic"}
	dir := writeReportMeta(t, mix(3, enroll.Joined), meta)
	var top map[string]json.RawMessage
	data := readFile(t, dir, "summary.json")
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]json.RawMessage{}
	for _, obj := range []string{"input", "api", "preset"} {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(top[obj], &m); err != nil {
			t.Fatalf("%s: %v\n%s", obj, err, data)
		}
		got[obj] = m
	}
	for obj, keys := range map[string][]string{
		"input":  {"path", "size", "sha256", "rows", "delimiter", "encoding"},
		"api":    {"requests", "by_endpoint", "retries", "throttled_429", "outage_probes"},
		"preset": {"name", "membership_from", "at_creation_only"},
	} {
		for _, k := range keys {
			if _, ok := got[obj][k]; !ok {
				t.Errorf("summary.json's %s has no %s: %s", obj, k, top[obj])
			}
		}
	}
}
