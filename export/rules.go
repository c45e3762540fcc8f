package export

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
)

// ValidEmail accepts a bare address: local@domain with a dot in the domain.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func validID(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

// statusWords are the membership status words exports use, as normHeader
// folds them (no case, spaces, '-' or '_'): the generic vocabulary, with
// Mindbody's (Active; Non-member, Expired, Suspended, Terminated,
// Declined) and CSI Spectrum's (A and F active, as Perkville's CSI mapping
// reads them).
var statusWords = map[string]string{
	"active": "ACTIVE", "a": "ACTIVE", "f": "ACTIVE", "current": "ACTIVE", "member": "ACTIVE",
	"yes": "ACTIVE", "true": "ACTIVE", "1": "ACTIVE",
	"inactive": "INACTIVE", "i": "INACTIVE", "cancelled": "INACTIVE", "canceled": "INACTIVE", "expired": "INACTIVE",
	"frozen": "INACTIVE", "suspended": "INACTIVE", "terminated": "INACTIVE", "nonmember": "INACTIVE",
	"declined": "INACTIVE", "no": "INACTIVE", "false": "INACTIVE", "0": "INACTIVE",
}

// MembershipStatus reads a membership status cell: ACTIVE or INACTIVE, in
// the words exports use (any case, surrounding spaces ignored).
func MembershipStatus(s string) (string, bool) {
	st, ok := statusWords[normHeader(s)]
	return st, ok
}

// ParseStatusMap reads a business's own status words, each WORD=ACTIVE or
// WORD=INACTIVE, into the map ReaderOptions.StatusMap takes.
func ParseStatusMap(entries []string) (map[string]string, error) {
	m := map[string]string{}
	for _, e := range entries {
		word, status, ok := strings.Cut(e, "=")
		status = strings.ToUpper(strings.TrimSpace(status))
		if !ok || strings.TrimSpace(word) == "" || (status != "ACTIVE" && status != "INACTIVE") {
			return nil, fmt.Errorf("%q: write WORD=ACTIVE or WORD=INACTIVE, e.g. Paused=INACTIVE", e)
		}
		m[normHeader(word)] = status
	}
	return m, nil
}

// statusOf reads a status word: the business's own map first, then the
// generic vocabulary.
func (rd *Reader) statusOf(word string) (string, bool) {
	if st, ok := rd.statusMap[normHeader(word)]; ok {
		return st, true
	}
	return MembershipStatus(word)
}

// readStatus reads the row's membership status: its preset's rule, or its
// status column in the business's words and then the generic ones.
func (rd *Reader) readStatus(rec *Record, cells []string) {
	rec.MembershipFrom = rd.membershipFrom
	if rd.rule != nil {
		ruleCells := make([]string, len(rd.ruleIdx))
		for k, i := range rd.ruleIdx {
			ruleCells[k] = strings.TrimSpace(cells[i])
		}
		rec.MembershipWord, rec.MembershipStatus = strings.Join(ruleCells, " / "), rd.rule(ruleCells)
		return
	}
	rec.MembershipWord = rec.MembershipStatus
	rec.MembershipStatus, _ = rd.statusOf(rec.MembershipWord)
}

// statusMapHint says how to name an unknown status word.
func (rd *Reader) statusMapHint(word string) string {
	name := rd.statusMapName
	if name == "" {
		name = "the status map"
	}
	w := cut(strings.TrimSpace(word), 40)
	if strings.ContainsAny(w, ", =") {
		w = strconv.Quote(w)
	}
	return fmt.Sprintf("say what it means with %s %s=ACTIVE or %s=INACTIVE", name, w, w)
}

// MembershipFrom names where the rows' membership status comes from: the
// preset's rule, the export's column, or nowhere ("").
func (rd *Reader) MembershipFrom() string { return rd.membershipFrom }

// membershipFrom is MembershipFrom, decided once the header is read.
func membershipFrom(p *Preset, header []string, columns map[string]int) string {
	if p != nil && p.Rule != nil {
		return "the " + p.Name + " rule: " + p.RuleText
	}
	if i, ok := columns[FieldMembershipStatus]; ok {
		return fmt.Sprintf("the export's column %q", header[i])
	}
	return ""
}
