package cli

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// apiHints say what to do about an API error, naming the flags and
// variables the library's errors do not know: ep says whether --api or
// PERKVILLE_API chose the API (else the real one was tried), and where the
// token came from.
func apiHints(err error, ep *endpoint) []string {
	if err == nil {
		return nil
	}
	var ae *pv.Error
	var we *pv.WaitError
	var na *pv.NotAdminError
	var oe *pv.OutageError
	switch {
	case errors.As(err, &oe):
		return []string{fmt.Sprintf("the API was down for longer than --max-wait (now %s); rerun once it answers (with --state the same command resumes), or raise --max-wait", oe.Waited)}
	case errors.As(err, &we):
		return []string{fmt.Sprintf("--max-wait (now %s) is the longest wait pvenroll accepts from the API; rerun later, or raise it", we.Max)}
	case errors.As(err, &na):
		return []string{fmt.Sprintf("use the token of an admin staff member (%s) of business %d, or check --business/PERKVILLE_BUSINESS", pv.ScopeAdminCustomerInfo, na.Business)}
	case !errors.As(err, &ae):
		return nil
	case ae.Unreached() && !ep.given:
		return []string{"no --api or PERKVILLE_API was given, so this tried the real API at " + pv.DefaultBaseURL,
			"to try pvenroll without it, use --sandbox, or run 'pvenroll sandbox' and set PERKVILLE_API=http://127.0.0.1:8080"}
	case ae.Unreached():
		return []string{"check --api/PERKVILLE_API, the network, and any proxy (HTTPS_PROXY)"}
	case ae.Redirect():
		return []string{"redirects are never followed, so that the token goes to the API host only; if " + ae.Location +
			" is the API, point --api (PERKVILLE_API) at its final URL"}
	case ae.Blocked():
		return []string{"the request was stopped before the API, by something between: check that the User-Agent pvenroll sends (" + userAgent() + ") is not blocked, " +
			"that this machine's IP address is on any allow-list of the API or your network, and any proxy (HTTPS_PROXY, HTTP_PROXY)"}
	case ae.Status == http.StatusUnauthorized:
		return []string{ep.tokenFrom.refusedHint()}
	case ae.Status == http.StatusNotFound && strings.HasPrefix(ae.Path, "/v2/businesses/"):
		return []string{"check --business/PERKVILLE_BUSINESS: the API knows no such business"}
	case ae.Status == http.StatusForbidden:
		return []string{fmt.Sprintf("the token must be an admin staff member's (%s) of the business given by --business/PERKVILLE_BUSINESS", pv.ScopeAdminCustomerInfo)}
	}
	return nil
}

// hintLines joins hints, once each, for exitError.hint: exitCode prints
// the first after "hint: ", and each further one on a "hint: " line of its
// own.
func hintLines(hints []string, more ...string) string {
	var uniq []string
	for _, h := range append(hints, more...) {
		if h != "" && !slices.Contains(uniq, h) {
			uniq = append(uniq, h)
		}
	}
	return strings.Join(uniq, "\nhint: ")
}
