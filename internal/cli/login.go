package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// loginOptions are the login command's flags.
type loginOptions struct {
	API              string
	TokenURL         string
	ClientID         string
	ClientSecretFile string
	Username         string
	PasswordStdin    bool
	TokenFile        string
	Force            bool
}

func newLoginCmd() *cobra.Command {
	var o loginOptions
	c := &cobra.Command{
		Use:   "login [flags]",
		Short: "Get a token for an admin staff member (OAuth 2.0 password grant) into the token file",
		Long: `Get a bearer token from Perkville's token endpoint with the OAuth 2.0 password
grant (RFC 6749 §4.3): the application's client id and secret, and a staff
member's username and password. The password is asked for without echo, or
read from standard input with --password-stdin; it is never a flag value.
The token is written to the token file (mode 0600 in a 0700 folder) and never
printed; the scopes it was granted are kept beside it (FILE.scopes), so that
'check' can say whether it is an admin's. An existing token file is kept
unless --force.`,
		Example: `  export PERKVILLE_CLIENT_ID=… PERKVILLE_CLIENT_SECRET=…
  pvenroll login --username manager@riverside.example

  # from a script: the password on standard input
  pvenroll login --username manager@riverside.example --password-stdin < password.txt`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fromEnv(c, "api", "PERKVILLE_API", &o.API)
			fromEnv(c, "client-id", "PERKVILLE_CLIENT_ID", &o.ClientID)
			fromEnv(c, "username", "PERKVILLE_USERNAME", &o.Username)
			return runLogin(c.Context(), c, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.API, "api", pv.DefaultBaseURL, "API base URL; the token endpoint is on its host [PERKVILLE_API]")
	f.StringVar(&o.TokenURL, "token-url", "", "the token endpoint (default: the API URL plus "+pv.PathToken+", an assumed path)")
	f.StringVar(&o.ClientID, "client-id", "", "the application's OAuth client id [PERKVILLE_CLIENT_ID]")
	f.StringVar(&o.ClientSecretFile, "client-secret-file", "", "file holding the client secret (else PERKVILLE_CLIENT_SECRET)")
	f.StringVar(&o.Username, "username", "", "the staff member's username (their email) [PERKVILLE_USERNAME]")
	f.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&o.TokenFile, "token-file", "", "where to write the token (default: "+displayTokenFile()+")")
	f.BoolVar(&o.Force, "force", false, "replace an existing token file")
	return c
}

func runLogin(ctx context.Context, c *cobra.Command, o loginOptions) error {
	path := o.TokenFile
	if path == "" {
		var err error
		if path, err = defaultTokenFile(); err != nil {
			return usageError{err}
		}
	}
	if _, err := os.Stat(path); err == nil && !o.Force {
		return usageError{withHint(fmt.Errorf("token file %s exists: kept", path), "--force replaces it with a new token")}
	}
	secret, err := clientSecret(o.ClientSecretFile)
	if err != nil {
		return err
	}
	switch {
	case o.ClientID == "":
		return usagef("--client-id (or PERKVILLE_CLIENT_ID) is required: the id of the application Perkville registered for you")
	case o.Username == "":
		return usagef("--username (or PERKVILLE_USERNAME) is required: the staff member's username")
	}
	req := pv.PasswordGrant{TokenURL: o.TokenURL, BaseURL: o.API, ClientID: o.ClientID, ClientSecret: secret,
		Username: o.Username, UserAgent: userAgent(), Timeout: 30 * time.Second}
	if _, err := req.Endpoint(); err != nil {
		return usageError{withHint(err, "the token endpoint is --token-url, else on the host of --api/PERKVILLE_API")}
	}
	if req.Password, err = readPassword(c, o); err != nil {
		return err
	}
	grant, err := pv.RequestToken(ctx, req)
	if err != nil {
		var ge *pv.GrantError
		if errors.As(err, &ge) {
			return exitError{code: ExitFatalAPI, err: err, hint: "check the username and password, --client-id and the client secret, and --token-url"}
		}
		return exitError{code: ExitFatalAPI, err: err, hint: "check --api/PERKVILLE_API or --token-url, and the network"}
	}
	if err := saveToken(path, grant); err != nil {
		return err
	}
	out := c.OutOrStdout()
	fmt.Fprintf(out, "token saved to %s (mode 0600); scopes: %s\n", path, scopeList(grant.Scopes))
	if !grant.HasScope(pv.ScopeAdminCustomerInfo) {
		fmt.Fprintf(out, "warning: the token lacks %s: it cannot create members or join customers other than its own; log in as an admin staff member of the business\n", pv.ScopeAdminCustomerInfo)
	}
	return nil
}

// defaultTokenFile is where login writes the token and where the other
// commands look for it when neither --token-file nor PERKVILLE_TOKEN is
// given: pvenroll/token in the user's configuration folder
// (~/.config/pvenroll/token; %APPDATA%\pvenroll\token on Windows).
func defaultTokenFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no folder for the token file (%v): name one with --token-file", err)
	}
	return filepath.Join(dir, "pvenroll", "token"), nil
}

// existingDefaultTokenFile is the default token file if there is one.
func existingDefaultTokenFile() string {
	p, err := defaultTokenFile()
	if err != nil {
		return ""
	}
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// scopeCheck is the check line of the token's scopes, known when login
// kept them beside the token file: fatal without ADMIN_CUSTOMER_INFO,
// which every write of a run needs.
func scopeCheck(tokenFile string) pv.Check {
	scopes, known := knownScopes(tokenFile)
	switch {
	case !known:
		return pv.Check{ID: checkTokenScopes, Name: "token scopes", OK: true, Note: true, Detail: "not known (the token did not come from 'pvenroll login'): the admin probe decides"}
	case !slices.Contains(scopes, pv.ScopeAdminCustomerInfo):
		err := fmt.Errorf("%s (from %s) has no %s: it is not an admin staff member's token", scopeList(scopes), scopesFile(tokenFile), pv.ScopeAdminCustomerInfo)
		return pv.Check{ID: checkTokenScopes, Name: "token scopes", Detail: err.Error(), Err: err, Fatal: true}
	}
	return pv.Check{ID: checkTokenScopes, Name: "token scopes", OK: true, Note: true, Detail: scopeList(scopes) + " (as granted at login)"}
}

// displayTokenFile names the default token file for help text.
func displayTokenFile() string {
	if p, err := defaultTokenFile(); err == nil {
		if home, herr := os.UserHomeDir(); herr == nil && strings.HasPrefix(p, home+string(filepath.Separator)) {
			return "~" + p[len(home):]
		}
		return p
	}
	return "pvenroll/token in the user's configuration folder"
}

// scopesFile is where the scopes granted with the token in path are kept.
func scopesFile(path string) string { return path + ".scopes" }

// knownScopes reads the scopes kept beside a token file by login; ok is
// false when there are none (the token came from elsewhere).
func knownScopes(tokenFile string) (scopes []string, ok bool) {
	if tokenFile == "" {
		return nil, false
	}
	b, err := os.ReadFile(scopesFile(tokenFile))
	if err != nil {
		return nil, false
	}
	return strings.Fields(string(b)), true
}

func scopeList(scopes []string) string {
	if len(scopes) == 0 {
		return "(none)"
	}
	return strings.Join(scopes, " ")
}

// clientSecret reads the client secret: --client-secret-file beats
// PERKVILLE_CLIENT_SECRET. Like a token, it is never a flag value.
func clientSecret(file string) (pv.Secret, error) {
	if file == "" {
		return pv.Secret(strings.TrimSpace(os.Getenv("PERKVILLE_CLIENT_SECRET"))), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", usagef("--client-secret-file: %w", err)
	}
	return pv.Secret(strings.TrimSpace(string(b))), nil
}

// readPassword reads the password: the first line of standard input with
// --password-stdin, else a prompt without echo on the terminal.
func readPassword(c *cobra.Command, o loginOptions) (pv.Secret, error) {
	in := c.InOrStdin()
	if o.PasswordStdin {
		line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", usagef("--password-stdin: %w", err)
		}
		p := strings.TrimRight(line, "\r\n")
		if p == "" {
			return "", usagef("--password-stdin: standard input holds no password")
		}
		return pv.Secret(p), nil
	}
	f, isFile := in.(*os.File)
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		return "", usageError{withHint(errors.New("no terminal to ask for the password"), "give it on standard input with --password-stdin (never as a flag value)")}
	}
	fmt.Fprintf(c.ErrOrStderr(), "Password for %s: ", o.Username)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.ErrOrStderr())
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return pv.Secret(b), nil
}

// saveToken writes the token, then its scopes beside it, each whole or not
// at all (a temporary file renamed), mode 0600 in a folder made 0700.
func saveToken(path string, g *pv.Grant) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("token folder: %w", err)
	}
	if def, err := defaultTokenFile(); err == nil && def == path {
		// pvenroll's own folder: nobody else needs to look in.
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("token folder: %w", err)
		}
	}
	if err := writePrivate(path, g.Token.Reveal()+"\n"); err != nil {
		return err
	}
	return writePrivate(scopesFile(path), strings.Join(g.Scopes, " ")+"\n")
}

// writePrivate replaces path with data, mode 0600, through a temporary
// file in the same folder.
func writePrivate(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pvenroll-token-*")
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("token file: %w", err)
	}
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		return fmt.Errorf("token file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	return nil
}
