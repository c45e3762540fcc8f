package sandbox

import (
	"time"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// The optional fields of an external member record [assumed]: what the
// sandbox accepts and keeps, as Perkville is assumed to.

// memberFieldsError refuses a body whose optional fields Perkville would
// not take: a status other than ACTIVE or INACTIVE, a date not in ISO 8601.
// ok is false when it refuses.
func memberFieldsError(in pv.NewExternalMember) (refusal result, ok bool) {
	if in.MembershipStatus != "" && in.MembershipStatus != pv.StatusActive && in.MembershipStatus != pv.StatusInactive {
		return validation("membership_status", "invalid_choice", "ACTIVE or INACTIVE."), false
	}
	for field, v := range map[string]string{"join_date": in.JoinDate, "cancel_date": in.CancelDate} {
		if v != "" && !isoDate(v) {
			return validation(field, "invalid", "Enter a valid date: YYYY-MM-DD or an ISO 8601 date-time."), false
		}
	}
	return result{}, true
}

func isoDate(s string) bool {
	if _, err := time.Parse("2006-01-02", s); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

// keepFields stores the record's optional fields a create or an upsert
// sends; one it leaves out keeps its value.
func (m *ExternalMember) keepFields(in pv.NewExternalMember) {
	for _, f := range []struct {
		to *string
		v  string
	}{
		{&m.MembershipStatus, in.MembershipStatus}, {&m.MembershipType, in.MembershipType},
		{&m.HomeLocation, in.HomeLocation}, {&m.JoinDate, in.JoinDate}, {&m.CancelDate, in.CancelDate},
	} {
		if f.v != "" {
			*f.to = f.v
		}
	}
}
