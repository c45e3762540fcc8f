package export

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Preset describes a membership system's export: the names of its columns
// and how it says a membership is active, after Perkville's own integration
// mappings (docs.perkville.com, Integration Reference).
type Preset struct {
	Name     string
	Title    string // the membership system's own name, for messages
	SystemID string // the external_system_id Perkville's integration uses
	// Aliases are tried before the generic header names.
	Aliases map[string][]string
	// OwnMemberID says the member id is read only from the preset's own
	// column (Aliases[FieldExternalMemberID]): Perkville's integration
	// keys its external members by it, and another id (a barcode) would
	// make each customer a second record.
	OwnMemberID bool
	// MemberIDShape tells an id in the integration's own shape, described
	// by MemberIDShapeText; nil: any id.
	MemberIDShape     func(id string) bool
	MemberIDShapeText string
	// Rule derives ACTIVE or INACTIVE from the named columns, when the
	// export has no single membership status column. Its cells are
	// compared ignoring case and surrounding spaces.
	RuleColumns [][]string // each needed column, by its possible names
	// RuleText says the rule in words, for validate, the dry run and the README.
	RuleText string
	Rule     func(cells []string) string
}

// is says whether a rule's cell holds one of words, ignoring case and
// surrounding spaces: exports differ in both.
func is(cell string, words ...string) bool {
	cell = strings.TrimSpace(cell)
	return slices.ContainsFunc(words, func(w string) bool { return strings.EqualFold(cell, w) })
}

// activeIf is ACTIVE when ok, else INACTIVE.
func activeIf(ok bool) string {
	if ok {
		return "ACTIVE"
	}
	return "INACTIVE"
}

// guidShape matches a GUID as ABC Ignite writes its memberId: 32 hex
// digits, in 8-4-4-4-12 groups or without the dashes.
var guidShape = regexp.MustCompile(`^(?i:[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$`)

// Presets are the known export shapes.
var Presets = map[string]*Preset{
	"generic": {Name: "generic"},
	// ABC Ignite: membership_status is "ACTIVE" if isActive = true and
	// joinStatus = "Member", else "INACTIVE"; member_id is memberId; the
	// home location personal.homeClub, the join date agreement.sinceDate,
	// and an inactive member's cancel date personal.memberStatusDate.
	"abc-ignite": {
		Name: "abc-ignite", Title: "ABC Ignite", SystemID: "ABC_IGNITE",
		Aliases: map[string][]string{
			FieldEmail:            {"personal.email", "email"},
			FieldExternalMemberID: {"memberId"},
			FieldFirstName:        {"personal.firstName", "firstName"},
			FieldLastName:         {"personal.lastName", "lastName"},
			FieldMembershipType:   {"agreement.membershipType", "membershipType"},
			FieldHomeLocation:     {"personal.homeClub", "homeClub"},
			FieldJoinDate:         {"agreement.sinceDate", "sinceDate"},
			FieldCancelDate:       {"personal.memberStatusDate", "memberStatusDate"},
		},
		OwnMemberID:       true,
		MemberIDShape:     guidShape.MatchString,
		MemberIDShapeText: "a GUID (like 3f2504e0-4f89-11d3-9a0c-0305e82c3301)",
		RuleColumns:       [][]string{{"personal.isActive", "isActive"}, {"personal.joinStatus", "joinStatus"}},
		RuleText:          "ACTIVE if isActive is true and joinStatus is Member, else INACTIVE",
		Rule: func(c []string) string {
			return activeIf(is(c[0], "true") && is(c[1], "Member"))
		},
	},
	// CSI Spectrum: external_membership_status is active if AccountType is
	// "MEMBER" and Status is "A" or "F"; external_member_id is AccountId;
	// the home location SiteId, the dates JoinDate and ExpirationDate.
	"csi-spectrum": {
		Name: "csi-spectrum", Title: "CSI Spectrum", SystemID: "CSI_SPECTRUM",
		Aliases: map[string][]string{
			FieldEmail:            {"Email", "EmailAddress", "Email Address"},
			FieldExternalMemberID: {"AccountId"},
			FieldFirstName:        {"FirstName"},
			FieldLastName:         {"LastName"},
			FieldMembershipType:   {"MembershipType"},
			FieldHomeLocation:     {"SiteId"},
			FieldJoinDate:         {"JoinDate"},
			FieldCancelDate:       {"ExpirationDate"},
		},
		OwnMemberID: true,
		RuleColumns: [][]string{{"AccountType"}, {"Status"}},
		RuleText:    "ACTIVE if AccountType is MEMBER and Status is A or F, else INACTIVE",
		Rule: func(c []string) string {
			return activeIf(is(c[0], "MEMBER") && is(c[1], "A", "F"))
		},
	},
}

// MemberIDMissing refuses a file from which the preset's integration could
// not key its members: its own member id column is absent (cols is the
// reader's Columns). Creating or upserting members needs it.
func (p *Preset) MemberIDMissing(cols map[string]int) error {
	if _, ok := cols[FieldExternalMemberID]; ok || p == nil || !p.OwnMemberID {
		return nil
	}
	return fmt.Errorf("preset %s reads the member id from column %q only (Perkville's %s integration keys its members by it), and the file has no such column: creating or updating members without it would give each customer a second record",
		p.Name, p.Aliases[FieldExternalMemberID][0], p.SystemID)
}

// PresetNames lists the presets for help texts.
func PresetNames() []string {
	names := make([]string, 0, len(Presets))
	for n := range Presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// LookupPreset finds a preset by name.
func LookupPreset(name string) (*Preset, error) {
	if name == "" {
		return Presets["generic"], nil
	}
	p, ok := Presets[name]
	if !ok {
		return nil, fmt.Errorf("unknown preset %q: one of %s", name, strings.Join(PresetNames(), ", "))
	}
	return p, nil
}

// ruleColumns finds the columns a preset's membership rule reads.
// ruleColumnNames names the columns the rule reads, by their first names.
func (p *Preset) ruleColumnNames() string {
	var names []string
	for _, n := range p.RuleColumns {
		names = append(names, strconv.Quote(n[0]))
	}
	return strings.Join(names, ", ")
}

func (p *Preset) ruleColumns(header []string) ([]int, *HeaderError) {
	var idx []int
	for _, names := range p.RuleColumns {
		found := -1
		for _, n := range names {
			for i, h := range header {
				if normHeader(h) == normHeader(n) {
					found = i
				}
			}
			if found >= 0 {
				break
			}
		}
		if found < 0 {
			return nil, &HeaderError{Problem: fmt.Sprintf("preset %s reads the membership status from column %q, which is missing", p.Name, names[0]), Found: header,
				Expected: fmt.Sprintf("the columns preset %s reads (%s); is it the right preset? preset generic reads any export's own names", p.Name, p.ruleColumnNames()),
				Setting:  SettingPreset}
		}
		idx = append(idx, found)
	}
	return idx, nil
}
