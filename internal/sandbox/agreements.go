package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	pv "github.com/pvenroll/pvenroll/perkville"
)

func (s *Sandbox) agreementsView(tok *Token, q url.Values) result {
	business, bad := s.businessParam(q)
	if bad != nil {
		return *bad
	}
	uid, err := strconv.ParseInt(q.Get(pv.QueryUserID), 10, 64)
	if err != nil {
		return validation(pv.QueryUserID, "required", "user_id is required.")
	}
	if !tok.admin(business) && !(tok.has(pv.ScopeUserCustomerInfo) && tok.UserID == uid) {
		return forbidden("You may not read this user's agreements.")
	}
	u := s.users[uid]
	if u == nil || business != s.world.Business.BusinessID {
		return notFound()
	}
	joinOnly := q.Get(pv.QueryApplyToJoinFlow) == "true"
	objs := []agreementJSON{}
	for _, a := range s.world.Business.Agreements {
		if joinOnly && !a.ApplyToJoinFlow {
			continue
		}
		accepted := slices.ContainsFunc(u.AcceptedAgreements, func(x Accepted) bool { return x.AgreementID == a.AgreementID })
		objs = append(objs, agreementJSON{AgreementID: a.AgreementID, Title: a.Title, Version: a.Version, Accepted: accepted, Text: a.Text})
	}
	return ok(http.StatusOK, pv.List[agreementJSON]{Meta: pv.ListMeta{Limit: len(objs), TotalCount: len(objs)}, Objects: objs})
}

// agreementJSON is an agreement as the sandbox answers it: the shape
// pvenroll assumes, with a version number (Shapes.TextVersions makes it
// text).
type agreementJSON struct {
	AgreementID int64  `json:"agreement_id"`
	Title       string `json:"title"`
	Version     int    `json:"version"`
	Accepted    bool   `json:"accepted"`
	Text        string `json:"text"`
}

func (s *Sandbox) acceptAgreements(tok *Token, body []byte) result {
	var in pv.AcceptanceBatch[pv.AgreementAcceptance]
	if err := json.Unmarshal(body, &in); err != nil || in.Objects == nil {
		return validation("objects", "required", "A list of objects is required.")
	}
	if len(in.Objects) > pv.MaxAcceptanceBatch {
		return validation("objects", "max_length", fmt.Sprintf("At most %d objects.", pv.MaxAcceptanceBatch))
	}
	admin := tok.admin(s.world.Business.BusinessID)
	out := pv.AcceptanceBatch[pv.AcceptanceResult]{Objects: []pv.AcceptanceResult{}}
	applied := false
	for _, item := range in.Objects {
		r := pv.AcceptanceResult{AgreementID: item.AgreementID, UserID: item.UserID, Status: pv.AcceptanceError}
		u := s.users[item.UserID]
		known := slices.ContainsFunc(s.world.Business.Agreements, func(a AgreementSeed) bool { return a.AgreementID == item.AgreementID })
		_, dtErr := time.Parse(time.RFC3339, item.AcceptedDT)
		switch {
		case !admin && !(tok.has(pv.ScopeUserCustomerInfo) && tok.UserID == item.UserID):
			r.Code, r.Message = "permission_denied", "You may not accept for this user."
		case u == nil:
			r.Code, r.Message = "user_not_found", "No such user."
		case !known:
			r.Code, r.Message = "agreement_not_found", "No such agreement."
		case dtErr != nil:
			r.Code, r.Message = "invalid_accepted_dt", "accepted_dt must be an RFC 3339 time."
		case u.RefuseAcceptances:
			r.Code, r.Message = "acceptance_refused", "This user's acceptance was refused."
		default:
			r.Status, r.Code, r.Message = pv.AcceptanceAccepted, "", ""
			if !slices.ContainsFunc(u.AcceptedAgreements, func(x Accepted) bool { return x.AgreementID == item.AgreementID }) {
				u.AcceptedAgreements = append(u.AcceptedAgreements, Accepted{AgreementID: item.AgreementID, AcceptedDT: item.AcceptedDT})
				applied = true
			}
		}
		out.Objects = append(out.Objects, r)
	}
	return result{status: http.StatusOK, body: out, applied: applied}
}
