package export

import "slices"

// Recognise names the presets whose own columns a header holds: a member id
// column by one of the preset's names for it, and every column its
// membership rule reads. Read without its preset, such an export is
// refused (no email column: ABC Ignite's is personal.email) or misread (CSI
// Spectrum's Status taken for the membership status), so the command line
// suggests the preset. Sorted by name.
func Recognise(header []string) []*Preset {
	var found []*Preset
	for _, name := range PresetNames() {
		p := Presets[name]
		if p.Rule == nil || !holdsAny(header, p.Aliases[FieldExternalMemberID]) {
			continue
		}
		if _, err := p.ruleColumns(header); err == nil {
			found = append(found, p)
		}
	}
	return found
}

// holdsAny says whether the header has a column of one of the names.
func holdsAny(header, names []string) bool {
	return slices.ContainsFunc(header, func(h string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return normHeader(h) == normHeader(n) })
	})
}
