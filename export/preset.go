package export

import (
	"fmt"
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
	// Rule derives ACTIVE or INACTIVE from the named columns, when the
	// export has no single membership status column.
	RuleColumns [][]string // each needed column, by its possible names
	// RuleText says the rule in words, for validate, the dry run and the README.
	RuleText string
	Rule     func(cells []string) string
}

// Presets are the known export shapes.
var Presets = map[string]*Preset{
	"generic": {Name: "generic"},
	// ABC Ignite: membership_status is "ACTIVE" if isActive = true and
	// joinStatus = "Member", else "INACTIVE"; member_id is memberId.
	"abc-ignite": {
		Name: "abc-ignite", Title: "ABC Ignite", SystemID: "ABC_IGNITE",
		Aliases: map[string][]string{
			FieldEmail:            {"personal.email", "email"},
			FieldExternalMemberID: {"memberId", "member id"},
			FieldFirstName:        {"personal.firstName", "firstName"},
			FieldLastName:         {"personal.lastName", "lastName"},
			FieldMembershipType:   {"agreement.membershipType", "membershipType"},
		},
		RuleColumns: [][]string{{"personal.isActive", "isActive"}, {"personal.joinStatus", "joinStatus"}},
		RuleText:    "ACTIVE if isActive is true and joinStatus is Member, else INACTIVE",
		Rule: func(c []string) string {
			if strings.EqualFold(strings.TrimSpace(c[0]), "true") && strings.TrimSpace(c[1]) == "Member" {
				return "ACTIVE"
			}
			return "INACTIVE"
		},
	},
	// CSI Spectrum: external_membership_status is active if AccountType is
	// "MEMBER" and Status is "A" or "F"; external_member_id is AccountId.
	"csi-spectrum": {
		Name: "csi-spectrum", Title: "CSI Spectrum", SystemID: "CSI_SPECTRUM",
		Aliases: map[string][]string{
			FieldEmail:            {"Email", "EmailAddress", "Email Address"},
			FieldExternalMemberID: {"AccountId", "Account Id"},
			FieldFirstName:        {"FirstName"},
			FieldLastName:         {"LastName"},
			FieldMembershipType:   {"MembershipType"},
		},
		RuleColumns: [][]string{{"AccountType"}, {"Status"}},
		RuleText:    "ACTIVE if AccountType is MEMBER and Status is A or F, else INACTIVE",
		Rule: func(c []string) string {
			status := strings.TrimSpace(c[1])
			if strings.TrimSpace(c[0]) == "MEMBER" && (status == "A" || status == "F") {
				return "ACTIVE"
			}
			return "INACTIVE"
		},
	},
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
