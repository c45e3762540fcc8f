package perkville

import "testing"

func TestProgramURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://riverside.perkville.com/":       true,
		"https://www.perkville.com/biz/25/#join": true,
		"":                                       false,
		"riverside.perkville.com":                false,
		"/biz/25/":                               false,
		"http://riverside.perkville.com/":        false,
		"javascript:alert(1)":                    false,
		"https://user:pass@riverside.perkville.com/":    false,
		"https://riverside.perkville.com/?token=abc":    false,
		"https://riverside.perkville.com/?":             false,
		"https://riverside.perkville.com/\x1b]0;x\x07/": false,
	} {
		b := Business{Name: "Riverside Fitness", PerkvilleURL: raw}
		got, err := b.ProgramURL()
		if (err == nil) != ok || ok && got != raw {
			t.Errorf("%q: %q %v", raw, got, err)
		}
		want := raw
		if !ok {
			want = "Riverside Fitness"
		}
		if name := b.ProgramName(); name != want {
			t.Errorf("%q: messages say %q", raw, name)
		}
	}
}
