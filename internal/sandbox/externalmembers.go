package sandbox

import (
	"encoding/json"
	"net/http"
	"net/mail"
	"strings"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// postExternalMember is the external-member upsert, keyed on the system id
// and member id [doc]: 201 with a new record (and user, and connection,
// which starts IMPORTED), 200 with an updated one.
func (s *Sandbox) postExternalMember(tok *Token, body []byte) result {
	in, email, bad := s.readExternalMember(tok, body)
	if bad != nil {
		return *bad
	}
	m, uid, status, bad := s.upsertMember(in, email)
	if bad != nil {
		return *bad
	}
	u := s.users[uid]
	if s.world.Business.UpsertsIgnoreMembership {
		in.MembershipStatus, in.MembershipType = "", ""
	}
	m.keepFields(in)
	if u.Connection == nil {
		// A new connection starts IMPORTED: not joined [assumed].
		u.Connection = &Connection{ConnectionID: s.nextConn, Status: pv.StatusImported,
			ExternalMembershipStatus: pv.StatusActive}
		s.byConn[s.nextConn] = uid
		s.nextConn++
	}
	if in.MembershipStatus != "" {
		u.Connection.ExternalMembershipStatus = in.MembershipStatus
	}
	u.Connection.LastModDT = s.now().UTC().Format("2006-01-02T15:04:05")
	answer := pv.ExternalMember{ExternalMemberID: m.ExternalMemberID, ExternalSystemID: m.ExternalSystemID,
		User: pv.UserPath(uid), Connection: pv.ConnectionPath(u.Connection.ConnectionID),
		ResourceURI: pv.ExternalMemberPath(m.ID)}
	if s.world.Business.CreateAnswersWithoutConnection {
		// Fields that hide the embedded ones, left out when empty.
		return result{status: status, applied: true, body: struct {
			pv.ExternalMember
			User       string `json:"user,omitempty"`
			Connection string `json:"connection,omitempty"`
		}{ExternalMember: answer}}
	}
	return result{status: status, applied: true, body: answer}
}

// readExternalMember decodes and validates an upsert's body: the business
// and the token's rights first, then the required fields. email is the
// customer's, lowercased.
func (s *Sandbox) readExternalMember(tok *Token, body []byte) (in pv.NewExternalMember, email string, bad *result) {
	fail := func(r result) (pv.NewExternalMember, string, *result) { return in, "", &r }
	if err := json.Unmarshal(body, &in); err != nil {
		return fail(validation("__all__", "parse_error", "The body is not valid JSON for an external member."))
	}
	if in.Business == 0 {
		return fail(validation("business", "required", "This field is required."))
	}
	if in.Business != s.world.Business.BusinessID || !tok.admin(in.Business) {
		return fail(forbidden("Creating external members needs an admin staff member of the business."))
	}
	for field, v := range map[string]string{"external_system_id": in.ExternalSystemID,
		"external_member_id": in.ExternalMemberID, "user_email": in.UserEmail} {
		if strings.TrimSpace(v) == "" {
			return fail(validation(field, "required", "This field is required."))
		}
	}
	addr, err := mail.ParseAddress(in.UserEmail)
	if err != nil || addr.Address != strings.TrimSpace(in.UserEmail) {
		return fail(validation("user_email", "invalid", "Enter a valid email address."))
	}
	if refusal, ok := memberFieldsError(in); !ok {
		return fail(refusal)
	}
	return in, strings.ToLower(addr.Address), nil
}

// upsertMember finds or makes the record of in, and its user: the member id
// must still be the person the email names (409 otherwise), and an email
// has one record per system.
func (s *Sandbox) upsertMember(in pv.NewExternalMember, email string) (m *ExternalMember, uid int64, status int, bad *result) {
	key := memberKey(in.ExternalSystemID, in.ExternalMemberID)
	m = s.members[key]
	uid, emailKnown := s.byEmail[email]
	if m != nil && m.MatchesAnyEmail {
		uid, emailKnown = m.UserID, true // the record's customer, whoever was named
	}
	conflict := func(field, message string) (*ExternalMember, int64, int, *result) {
		r := errorResult(http.StatusConflict, "conflict", field, "pv_external_member_conflict", message)
		return nil, 0, 0, &r
	}
	if m != nil {
		if !emailKnown || uid != m.UserID {
			return conflict("external_member_id", "This member id belongs to another email.")
		}
		m.Updated++
		return m, uid, http.StatusOK, nil
	}
	if emailKnown {
		for _, other := range s.members {
			if other.ExternalSystemID == in.ExternalSystemID && other.UserID == uid {
				return conflict("user_email", "This email belongs to another member record.")
			}
		}
	} else {
		uid = s.nextUser
		s.nextUser++
		s.users[uid] = &User{UserID: uid, Emails: []string{email}, FirstName: in.FirstName, LastName: in.LastName}
		s.byEmail[email] = uid
	}
	m = &ExternalMember{ID: s.nextMember, ExternalSystemID: in.ExternalSystemID,
		ExternalMemberID: in.ExternalMemberID, UserID: uid, Created: 1}
	s.nextMember++
	s.members[key] = m
	return m, uid, http.StatusCreated, nil
}
