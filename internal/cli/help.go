package cli

// Help and shell completion: the values a flag with a fixed set offers to
// the shell, and the --sandbox-* flags listed apart, after the flags a real
// run uses.

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pvenroll/pvenroll/export"
)

// fixedValues are the values of the flags that take one of a fixed set,
// with a description after a tab, as cobra's completion shows them.
func fixedValues() map[string][]string {
	var presets []string
	for _, name := range export.PresetNames() {
		p, _ := export.LookupPreset(name)
		desc := "column names of any export"
		if p.SystemID != "" {
			desc = "an export of " + p.SystemID
		}
		presets = append(presets, name+"\t"+desc)
	}
	return map[string][]string{
		"preset":     presets,
		"progress":   {"auto\ta bar on a terminal, a line every 30 s otherwise", "always\ta bar", "never\tnothing"},
		"log-format": {"text\tkey=value lines", "json\tone JSON object a line"},
		"delimiter":  {",\tcomma", ";\tsemicolon", "tab\ttab", "|\tvertical bar"},
		"encoding":   {"auto\ta byte-order mark, else UTF-8 if valid, else Windows-1252", "utf-8", "utf-16", "windows-1252", "latin1"},
	}
}

// checkProgress checks --progress against the values it offers.
func checkProgress(v string) error {
	if v != "auto" && v != "always" && v != "never" {
		return usageError{withHint(fmt.Errorf("--progress %q: auto, always or never", v),
			"auto: a bar on a terminal, a line every 30 s otherwise; always: the bar even when not on a terminal; never: none (-q also hides the outcome table)")}
	}
	return nil
}

// oneArg is the Args of a command that takes exactly one argument, what
// (e.g. "one FILE"): a missing or extra one says what the command takes,
// not cobra's count of arguments.
func oneArg(what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageError{withHint(fmt.Errorf("%s takes %s, got %d", c.Name(), what, len(args)), fmt.Sprintf("see '%s --help'", c.CommandPath()))}
		}
		return nil
	}
}

// sandboxGroup is the prefix of the flags shown under their own heading.
const sandboxGroup = "sandbox-"

// decorate gives every command its completions, argument errors that are
// usage errors (exit 2, with a hint) and, where it has --sandbox-* flags,
// the usage that lists them apart.
func decorate(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(c *cobra.Command, args []string) error {
			err := check(c, args)
			var ue usageError
			if err == nil || errors.As(err, &ue) {
				return err
			}
			return usageError{withHint(err, fmt.Sprintf("usage: %s; see '%s --help'", c.UseLine(), c.CommandPath()))}
		}
	}
	values := fixedValues()
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if v, ok := values[f.Name]; ok {
			_ = c.RegisterFlagCompletionFunc(f.Name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return v, cobra.ShellCompDirectiveNoFileComp
			})
		}
		switch f.Name {
		case "token-file", "state":
			_ = c.MarkFlagFilename(f.Name)
		case "world", "sandbox-world":
			_ = c.MarkFlagFilename(f.Name, "json")
		case "out":
			_ = c.MarkFlagDirname(f.Name)
		}
	})
	if hasGroup(c.LocalFlags(), sandboxGroup) {
		c.SetUsageFunc(groupedUsage)
	}
	for _, sub := range c.Commands() {
		decorate(sub)
	}
}

func hasGroup(fs *pflag.FlagSet, prefix string) bool {
	found := false
	fs.VisitAll(func(f *pflag.Flag) { found = found || strings.HasPrefix(f.Name, prefix) })
	return found
}

// groupedUsage is cobra's usage for a command without subcommands, with
// the --sandbox-* flags under their own heading after the others.
func groupedUsage(c *cobra.Command) error {
	w := c.OutOrStderr()
	main, sandbox := pflag.NewFlagSet("", pflag.ContinueOnError), pflag.NewFlagSet("", pflag.ContinueOnError)
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if strings.HasPrefix(f.Name, sandboxGroup) {
			sandbox.AddFlag(f)
		} else {
			main.AddFlag(f)
		}
	})
	fmt.Fprintf(w, "Usage:\n  %s", c.UseLine())
	if c.HasExample() {
		fmt.Fprintf(w, "\n\nExamples:\n%s", c.Example)
	}
	section(w, "Flags", main)
	section(w, "Sandbox flags (with --sandbox: the built-in sandbox API and the faults it injects)", sandbox)
	if c.HasAvailableInheritedFlags() {
		section(w, "Global Flags", c.InheritedFlags())
	}
	fmt.Fprintln(w)
	return nil
}

func section(w io.Writer, title string, fs *pflag.FlagSet) {
	if usage := strings.TrimRight(fs.FlagUsages(), " \n"); usage != "" {
		fmt.Fprintf(w, "\n\n%s:\n%s", title, usage)
	}
}

// unknownCommand refuses the root's arguments, which can only be a command
// it does not have: cobra's own check is a plain error (exit 1), without
// the suggestion a usage error deserves.
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := "see 'pvenroll --help' for the commands"
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		hint = "did you mean '" + c.CommandPath() + " " + s[0] + "'? " + hint
	}
	return usageError{withHint(fmt.Errorf("unknown command %q", args[0]), hint)}
}

// shells are the shells `pvenroll completion` writes a script for.
var shells = []string{"bash", "zsh", "fish", "powershell"}

// strictCompletion makes cobra's completion command refuse a missing or
// unknown shell (cobra prints its help and exits 0, so a typo in an
// install script would go unnoticed).
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Args = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{withHint(errors.New("completion needs a SHELL"), "pvenroll completion "+strings.Join(shells, "|"))}
			}
			return usageError{withHint(fmt.Errorf("completion: unknown shell %q", args[0]), "the shells are "+strings.Join(shells, ", "))}
		}
		c.RunE = func(*cobra.Command, []string) error { return nil } // runnable, so cobra checks its args
	}
}
