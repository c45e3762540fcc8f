package cli

// The setup every command that reads an export or calls the API shares:
// which API as whom for which business, the input, and the one switch
// between a real run and a dry run.

import (
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pvenroll/pvenroll/internal/ledger"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// apiFlags say which API a command calls, as whom, for which business.
type apiFlags struct {
	API       string
	Business  string
	TokenFile string
	Sandbox   bool
	// SandboxWorld and SandboxFaults shape the --sandbox, for the commands
	// that register them (addSandbox).
	SandboxWorld  string
	SandboxFaults sandbox.Faults
}

func (a *apiFlags) add(f *pflag.FlagSet) {
	f.StringVar(&a.API, "api", pv.DefaultBaseURL, "API base URL; http:// only for loopback hosts [PERKVILLE_API]")
	f.StringVar(&a.Business, "business", "", "the business whose program customers join [PERKVILLE_BUSINESS]")
	f.StringVar(&a.TokenFile, "token-file", "", "file holding the bearer token (else PERKVILLE_TOKEN, else the default token file of 'pvenroll login', "+displayTokenFile()+")")
	f.BoolVar(&a.Sandbox, "sandbox", false, "use the built-in sandbox API, in process")
}

// addSandbox registers the flags that shape the --sandbox.
func (a *apiFlags) addSandbox(f *pflag.FlagSet) {
	f.StringVar(&a.SandboxWorld, "sandbox-world", "", "world file of the --sandbox (default: the embedded sample world)")
	addFaultFlags(f, &a.SandboxFaults, "sandbox-")
}

// addFaultFlags registers the sandbox's fault flags.
func addFaultFlags(f *pflag.FlagSet, x *sandbox.Faults, prefix string) {
	f.Int64Var(&x.Seed, prefix+"fault-seed", 1, "seed of the sandbox's fault draws")
	f.DurationVar(&x.Latency, prefix+"latency", 0, "sandbox: latency added to every answer")
	f.DurationVar(&x.Jitter, prefix+"jitter", 0, "sandbox: plus a random 0..jitter")
	f.Float64Var(&x.P429, prefix+"p429", 0, "sandbox: share of requests answered 429 with Retry-After")
	f.DurationVar(&x.RetryAfter, prefix+"retry-after", time.Second, "sandbox: the Retry-After of a 429")
	f.Float64Var(&x.P5xx, prefix+"p5xx", 0, "sandbox: share answered 500 before anything is applied")
	f.Float64Var(&x.P5xxApplied, prefix+"p5xx-applied", 0, "sandbox: share of writes applied, then answered 500")
	f.Float64Var(&x.PCDN, prefix+"pcdn", 0, "sandbox: share answered by a CDN HTML 502 page")
	f.Float64Var(&x.PDrop, prefix+"pdrop", 0, "sandbox: share whose connection is dropped with no answer")
	f.Float64Var(&x.PDropApplied, prefix+"pdrop-applied", 0, "sandbox: share of writes applied, then the connection dropped")
	f.Float64Var(&x.RateLimit, prefix+"rate-limit", 0, "sandbox: requests per second it accepts; more get 429")
	f.StringVar(&x.RetryAfterHeader, prefix+"retry-after-header", "", "sandbox: the 429's Retry-After header, verbatim (e.g. 1000000000)")
	f.StringVar(&x.Redirect, prefix+"redirect", "", "sandbox: answer every request 302 to this URL")
	f.Int64Var(&x.HugeAnswer, prefix+"huge-answer", 0, "sandbox: pad every answer of /v2/connections/ to this many bytes, streamed")
	f.BoolVar(&x.NextLoop, prefix+"next-loop", false, "sandbox: the listing's meta.next never advances")
	f.StringVar(&x.NextHost, prefix+"next-host", "", "sandbox: the listing's meta.next is a URL on this host")
	f.BoolVar(&x.UnappliedJoins, prefix+"unapplied-joins", false, "sandbox: a join answers 200 with the connection unchanged")
	f.BoolVar(&x.EchoToken, prefix+"token-echo", false, "sandbox: a lookup by email answers 400 quoting the Authorization header")
	f.IntVar(&x.BlockPage, prefix+"html-block", 0, "sandbox: answer every request with this status (403, 429, 503) and a CDN's HTML block page")
	f.Int64Var(&x.HugeHeaders, prefix+"huge-headers", 0, "sandbox: give every answer about this many bytes of headers")
	f.IntVar(&x.OutageAfter, prefix+"outage-after", 0, "sandbox: after this many requests, an outage: every request answered 500")
	f.DurationVar(&x.OutageFor, prefix+"outage-for", 0, "sandbox: how long the outage lasts (0: for ever)")
	f.BoolVar(&x.OutageHang, prefix+"outage-hang", false, "sandbox: in the outage, accept requests and never answer them")
	f.BoolVar(&x.EndlessListing, prefix+"next-endless", false, "sandbox: the connection listing never ends (full pages, a next further on)")
}

// fromEnv fills what the flags left unset from the environment.
func (a *apiFlags) fromEnv(c *cobra.Command) {
	fromEnv(c, "api", "PERKVILLE_API", &a.API)
	fromEnv(c, "business", "PERKVILLE_BUSINESS", &a.Business)
}

// endpoint is where a command's requests go, as whom, for which business.
type endpoint struct {
	url      string
	token    pv.Secret
	business int64
	sandbox  *sandbox.Server // the in-process --sandbox; nil without
	// tokenFrom is where the token came from: its file, beside which
	// login kept its scopes, and the source a refused token's hint names.
	tokenFrom tokenSource
	// sandboxAdmin is the --sandbox's own admin token of the business,
	// when the run uses it (no token was given): its rights are known.
	sandboxAdmin *sandbox.Token
	// given says whether --api, PERKVILLE_API or --sandbox chose the API;
	// if not, the real one is tried, and a hint says how to try the sandbox.
	given bool
}

// Close stops the in-process sandbox, if any.
func (e *endpoint) Close() {
	if e != nil && e.sandbox != nil {
		e.sandbox.Close()
	}
}

// endpoint checks the flags and starts the --sandbox. The sandbox takes its
// world's admin token and business unless others are given.
func (a *apiFlags) endpoint(c *cobra.Command) (*endpoint, error) {
	var token string
	var err error
	src := tokenSource{file: a.TokenFile}
	if src.file == "" && !a.Sandbox && os.Getenv("PERKVILLE_TOKEN") == "" {
		src.file = existingDefaultTokenFile() // where 'pvenroll login' put it
		src.loginFile = src.file != ""
	}
	if src.file != "" || !a.Sandbox {
		if token, err = readToken(src, c.ErrOrStderr()); err != nil {
			return nil, err
		}
	}
	e := &endpoint{url: a.API, given: a.Sandbox || c.Flags().Changed("api") || os.Getenv("PERKVILLE_API") != ""}
	business := a.Business
	if a.Sandbox {
		world, err := loadWorld(a.SandboxWorld)
		if err != nil {
			return nil, err
		}
		if business == "" {
			business = fmt.Sprint(world.Business.BusinessID)
		}
		if token == "" {
			token, src.sandbox = adminToken(world), true
			e.sandboxAdmin = worldAdmin(world)
		}
		e.sandbox = sandbox.NewServer(world, a.SandboxFaults)
		e.url = e.sandbox.URL
	}
	if business == "" {
		e.Close()
		return nil, usagef("--business ID (or PERKVILLE_BUSINESS) is required")
	}
	if e.business, err = parseBusiness(business); err != nil {
		e.Close()
		return nil, err
	}
	if e.sandboxAdmin != nil && !slices.Contains(e.sandboxAdmin.StaffOf, e.business) {
		e.sandboxAdmin = nil // an admin of the world's business, not of this one
	}
	if token == "" {
		e.Close()
		return nil, usagef("no token: run 'pvenroll login', set PERKVILLE_TOKEN or use --token-file PATH (a token is never a flag value)")
	}
	if _, err := pv.CheckBaseURL(e.url); err != nil {
		e.Close()
		if errors.Is(err, pv.ErrURLCredentials) {
			err = withHint(err, "set PERKVILLE_TOKEN or use --token-file PATH")
		}
		return nil, usageError{fmt.Errorf("--api: %w", err)}
	}
	e.token, e.tokenFrom = pv.Secret(token), src
	return e, nil
}

// openInput opens FILE, or standard input for "-"; name is for messages.
func openInput(c *cobra.Command, file string) (in io.ReadCloser, name string, err error) {
	if file == "-" {
		return io.NopCloser(c.InOrStdin()), "standard input", nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, "", usageError{inputError(file, err)}
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, "", usageError{withHint(fmt.Errorf("the export %s is a folder, not a file", file),
			"name the export file itself (a .csv or .xlsx), or - for standard input")}
	}
	return f, file, nil
}

// inputError says in words why the export could not be opened, with what
// to do: the path as given, never Go's "open ...: " prefix.
func inputError(file string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		wd, _ := os.Getwd()
		return withHint(fmt.Errorf("the export %s: no such file", file),
			fmt.Sprintf("check the path (a relative one is taken from %s); 'pvenroll samples' writes sample exports to try", wd))
	case errors.Is(err, fs.ErrPermission):
		return withHint(fmt.Errorf("the export %s cannot be read: permission denied", file),
			"run as a user who may read it, or copy it somewhere you can")
	}
	return fmt.Errorf("the export %s cannot be opened: %w", file, pathCause(err))
}

// runMode is the one switch between a real run and a dry run, the
// policy's DryRun (--dry-run): it builds the client that refuses writes
// and the ledger that records nothing, so that neither can disagree with
// the policy that predicts instead of writing.
type runMode struct{ dryRun bool }

func (m runMode) client(e *endpoint, o pv.Options) (*pv.Client, error) {
	o.BaseURL, o.Token, o.ReadOnly, o.UserAgent = e.url, e.token, m.dryRun, userAgent()
	c, err := pv.New(o)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

func (m runMode) ledger(path string) (*ledger.Ledger, error) { return ledger.Open(path, m.dryRun) }

// hashReader hashes and counts the input as it is read, for summary.json
// and the ledger.
type hashReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}
