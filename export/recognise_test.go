package export

import (
	"strings"
	"testing"
)

// Each preset's shipped sample is recognised as its own, and only as it;
// a generic export is recognised as none.
func TestRecognise(t *testing.T) {
	for _, c := range []struct {
		header string
		want   string
	}{
		{"memberId,personal.firstName,personal.lastName,personal.email,personal.isActive,personal.joinStatus,agreement.membershipType", "abc-ignite"},
		{"memberId,firstName,lastName,email,isActive,joinStatus", "abc-ignite"},
		{"AccountId,FirstName,LastName,Email,AccountType,Status,MembershipType,SiteId", "csi-spectrum"},
		{"Email,Member ID,First Name,Last Name,Membership Status", ""},
		{"AccountId,Email,Status", ""},            // CSI's rule needs AccountType too
		{"Email,isActive,joinStatus", ""},         // no member id
		{"memberId,Email,AccountType,Status", ""}, // a member id by another system's name
	} {
		var got []string
		for _, p := range Recognise(strings.Split(c.header, ",")) {
			got = append(got, p.Name)
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("%s: recognised %v, want %q", c.header, got, c.want)
		}
	}
}

// A preset that can be recognised has a title to say it by.
func TestRecognisablePresetsHaveTitles(t *testing.T) {
	for name, p := range Presets {
		if p.Rule != nil && p.Title == "" {
			t.Errorf("preset %s has no Title", name)
		}
	}
}
