package export

import (
	"strings"
	"testing"
	"unicode"
)

// variants writes a word as exports do: any case, padded with spaces.
func variants(w string) []string {
	return []string{w, strings.ToLower(w), strings.ToUpper(w), " " + w + " ", "\t" + strings.ToLower(w) + "  "}
}

func TestStatusWords(t *testing.T) {
	for _, tt := range []struct{ word, want string }{
		// Mindbody's member statuses
		{"Active", "ACTIVE"}, {"Non-member", "INACTIVE"}, {"Non Member", "INACTIVE"}, {"Expired", "INACTIVE"},
		{"Suspended", "INACTIVE"}, {"Terminated", "INACTIVE"}, {"Declined", "INACTIVE"},
		// CSI Spectrum's status letters, as Perkville's CSI mapping reads them
		{"A", "ACTIVE"}, {"F", "ACTIVE"},
		// the generic vocabulary
		{"current", "ACTIVE"}, {"member", "ACTIVE"}, {"yes", "ACTIVE"}, {"true", "ACTIVE"}, {"1", "ACTIVE"},
		{"inactive", "INACTIVE"}, {"I", "INACTIVE"}, {"cancelled", "INACTIVE"}, {"canceled", "INACTIVE"},
		{"frozen", "INACTIVE"}, {"no", "INACTIVE"}, {"false", "INACTIVE"}, {"0", "INACTIVE"},
		// unknown: the row is invalid unless the status map names it
		{"Paused", ""}, {"Prospect", ""}, {"C", ""}, {"Guest", ""},
	} {
		for _, v := range variants(tt.word) {
			got, ok := MembershipStatus(v)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("MembershipStatus(%q) = %q, %v; want %q", v, got, ok, tt.want)
			}
		}
	}
}

// The presets' rules ignore case and surrounding spaces in every cell.
func TestPresetRulesIgnoreCaseAndSpaces(t *testing.T) {
	for _, tt := range []struct {
		preset string
		cells  []string
		want   string
	}{
		{"abc-ignite", []string{"true", "Member"}, "ACTIVE"},
		{"abc-ignite", []string{"false", "Member"}, "INACTIVE"},
		{"abc-ignite", []string{"true", "Prospect"}, "INACTIVE"},
		{"abc-ignite", []string{"", "Member"}, "INACTIVE"},
		{"csi-spectrum", []string{"MEMBER", "A"}, "ACTIVE"},
		{"csi-spectrum", []string{"MEMBER", "F"}, "ACTIVE"},
		{"csi-spectrum", []string{"MEMBER", "C"}, "INACTIVE"},
		{"csi-spectrum", []string{"GUEST", "A"}, "INACTIVE"},
	} {
		p := Presets[tt.preset]
		for _, a := range variants(tt.cells[0]) {
			for _, b := range variants(tt.cells[1]) {
				if got := p.Rule([]string{a, b}); got != tt.want {
					t.Errorf("%s rule(%q, %q) = %s, want %s", tt.preset, a, b, got, tt.want)
				}
			}
		}
	}
}

// However a word is cased or padded, it reads the same, and only as
// ACTIVE or INACTIVE; so do the presets' rules.
func FuzzStatusWordCase(f *testing.F) {
	for _, w := range []string{"Active", "non-member", "F", "a", " Declined ", "MEMBER", "true", "Paused"} {
		f.Add(w, "Member")
	}
	f.Fuzz(func(t *testing.T, word, other string) {
		for _, r := range word + other {
			if r > unicode.MaxASCII {
				t.Skip("case folding beyond ASCII is not the exports' (ı upper-cases to I)")
			}
		}
		want, ok := MembershipStatus(word)
		if ok != (want == "ACTIVE" || want == "INACTIVE") {
			t.Fatalf("MembershipStatus(%q) = %q, %v", word, want, ok)
		}
		for _, v := range []string{strings.ToUpper(word), strings.ToLower(word), "  " + word + "\t"} {
			if got, gotOK := MembershipStatus(v); got != want || gotOK != ok {
				t.Fatalf("MembershipStatus(%q) = %q, MembershipStatus(%q) = %q", word, want, v, got)
			}
		}
		for _, p := range []*Preset{Presets["abc-ignite"], Presets["csi-spectrum"]} {
			want := p.Rule([]string{word, other})
			if got := p.Rule([]string{" " + strings.ToUpper(word), strings.ToLower(other) + " "}); got != want {
				t.Fatalf("%s rule(%q, %q) = %s, but %s in other case", p.Name, word, other, want, got)
			}
		}
	})
}

func TestReaderStatusMap(t *testing.T) {
	data := "Email,Status\na@x.co,Paused\nb@x.co,Non-member\nc@x.co, frozen \nd@x.co,Declined\n"
	recs, _, err := readAll(t, data, ReaderOptions{StatusMapName: "the map setting"})
	if err != nil {
		t.Fatal(err)
	}
	if r := recs[0]; !strings.Contains(r.Invalid, `line 2, column 2 (Status): membership status "Paused" is not a word the tool knows; say what it means with the map setting Paused=ACTIVE or Paused=INACTIVE`) {
		t.Errorf("unknown word: %q", r.Invalid)
	}
	for i, want := range []string{"", "INACTIVE", "INACTIVE", "INACTIVE"} {
		if i > 0 && (recs[i].MembershipStatus != want || recs[i].Invalid != "") {
			t.Errorf("line %d: %q (%s), want %s", recs[i].Line, recs[i].MembershipStatus, recs[i].Invalid, want)
		}
	}
	m, err := ParseStatusMap([]string{"paused=inactive", "Frozen = ACTIVE"})
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err = readAll(t, data, ReaderOptions{StatusMap: m})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"INACTIVE", "INACTIVE", "ACTIVE", "INACTIVE"} {
		if r := recs[i]; r.MembershipStatus != want || r.Invalid != "" {
			t.Errorf("with the map, line %d %q: %q (%s), want %s", r.Line, r.MembershipWord, r.MembershipStatus, r.Invalid, want)
		}
	}
	for _, bad := range []string{"Paused", "Paused=maybe", "=ACTIVE"} {
		if _, err := ParseStatusMap([]string{bad}); err == nil || !strings.Contains(err.Error(), "WORD=ACTIVE or WORD=INACTIVE") {
			t.Errorf("ParseStatusMap(%q): %v", bad, err)
		}
	}
}

// A reader names where its rows' membership status comes from, and each
// record carries the same name: the preset's rule, else the column read.
func TestReaderNamesWhereMembershipComesFrom(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		preset     *Preset
		want       string
	}{
		{"rule", "email,memberId,isActive,joinStatus\na@x.co,1,true,Member\n", Presets["abc-ignite"],
			"the abc-ignite rule: " + Presets["abc-ignite"].RuleText},
		{"column", "email,Member Status\na@x.co,Active\n", nil, `the export's column "Member Status"`},
		{"none", "email\na@x.co\n", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			recs, rd, err := readAll(t, tt.data, ReaderOptions{Preset: tt.preset})
			if err != nil {
				t.Fatal(err)
			}
			if got := rd.MembershipFrom(); got != tt.want {
				t.Errorf("MembershipFrom() = %q, want %q", got, tt.want)
			}
			if len(recs) != 1 || recs[0].Invalid != "" {
				t.Fatalf("records %+v, want one usable", recs)
			}
			if got := recs[0].MembershipFrom; got != tt.want {
				t.Errorf("record's MembershipFrom = %q, want %q", got, tt.want)
			}
		})
	}
}
