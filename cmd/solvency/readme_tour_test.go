package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/treasury/engine"
	"github.com/solvency-dev/solvency/treasury/policy"
)

// tourCommand is one command of the README's tour, as written.
type tourCommand struct {
	line string
	args []string // after "solvency"; a trailing & dropped
}

// readmeTour reads the shell blocks of README.md's "A tour of the commands" section: one command
// per line (continuations joined), comments dropped.
func readmeTour(t *testing.T) []tourCommand {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	start := strings.Index(s, "## A tour of the commands")
	if start < 0 {
		t.Fatal(`README.md has no "## A tour of the commands" section`)
	}
	s = s[start+1:]
	if end := strings.Index(s, "\n## "); end >= 0 {
		s = s[:end]
	}
	var cmds []tourCommand
	inBlock := false
	pending := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "```") {
			inBlock = strings.HasPrefix(l, "```sh") && !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		if i := strings.Index(l, "#"); i >= 0 {
			l = l[:i]
		}
		l = strings.TrimSpace(l)
		if strings.HasSuffix(l, `\`) {
			pending += strings.TrimSuffix(l, `\`) + " "
			continue
		}
		l = strings.TrimSpace(pending + l)
		pending = ""
		if l == "" {
			continue
		}
		f := strings.Fields(l)
		if f[0] != "solvency" {
			t.Fatalf("tour line %q does not run solvency", l)
		}
		if f[len(f)-1] == "&" {
			f = f[:len(f)-1]
		}
		cmds = append(cmds, tourCommand{line: l, args: f[1:]})
	}
	if len(cmds) < 10 {
		t.Fatalf("found only %d tour commands", len(cmds))
	}
	return cmds
}

// Flags whose value a command writes, and flags whose value must exist when it runs.
var (
	tourOutputFlags = map[string]bool{"out": true, "state": true, "datadir": true}
	tourInputFlags  = map[string]bool{"config": true, "keys": true, "keys-from": true, "accounts": true, "assets": true,
		"liabilities": true, "positions": true, "prices": true, "policy": true, "liability-totals": true, "dir": true,
		"proof": true, "addresses": true}
)

// parsedTour is a tour command resolved against the CLI.
type parsedTour struct {
	tourCommand
	path  string            // "verify inclusion"
	flags map[string]string // set flags and their values
	files map[string]bool   // set flags whose value is a string (a file name, when an input flag)
	all   map[string]string // every flag's value, set or default
	pos   []string          // positional arguments
}

func parseTour(t *testing.T, tc tourCommand) parsedTour {
	t.Helper()
	root := newRootCmd()
	c, rest, err := root.Find(tc.args)
	if err != nil || c == root {
		t.Fatalf("tour: %q: no such command (%v)", tc.line, err)
	}
	if err := c.ParseFlags(rest); err != nil {
		t.Fatalf("tour: %q: %v", tc.line, err)
	}
	pos := c.Flags().Args()
	if c.Args != nil {
		if err := c.Args(c, pos); err != nil {
			t.Fatalf("tour: %q: %v", tc.line, err)
		}
	}
	if !c.Runnable() {
		t.Fatalf("tour: %q names a command group, not a command", tc.line)
	}
	p := parsedTour{tourCommand: tc, path: strings.TrimPrefix(c.CommandPath(), "solvency "), flags: map[string]string{}, files: map[string]bool{}, all: map[string]string{}, pos: pos}
	c.Flags().VisitAll(func(f *pflag.Flag) { p.all[f.Name] = f.Value.String() })
	c.Flags().Visit(func(f *pflag.Flag) {
		p.flags[f.Name] = f.Value.String()
		p.files[f.Name] = f.Value.Type() == "string"
	})
	for _, name := range requiredFlags(c) {
		if _, ok := p.flags[name]; !ok {
			t.Fatalf("tour: %q lacks the required --%s", tc.line, name)
		}
	}
	return p
}

func requiredFlags(c *cobra.Command) []string {
	var out []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		// Marked required, or documented so (some commands check their flags themselves).
		if v, ok := f.Annotations[cobra.BashCompOneRequiredFlag]; ok && len(v) > 0 && v[0] == "true" ||
			strings.Contains(f.Usage, "(required)") {
			out = append(out, f.Name)
		}
	})
	return out
}

// TestReadmeTour: every command in README.md's tour names a command and flags that exist, with its
// required flags and arguments; every file it reads is in the checkout or made by an earlier
// command; the user's proof comes from the snapshot a cycle proved; the account id exists in the
// snapshot; and the commands that are quick at this size (accounts, snapshot, risk, the user's
// proof, policy) run as written, in order, from a copy of the checkout's testdata.
func TestReadmeTour(t *testing.T) {
	tour := readmeTour(t)
	var made []string // outputs of earlier commands
	madeBy := func(p string) bool {
		for _, m := range made {
			if p == m || strings.HasPrefix(p, m+"/") {
				return true
			}
		}
		return false
	}
	proven := map[string]bool{} // snapshot directories a cycle proved
	var proofDir, proofAccount, verifyAccount, accountsCSV string
	var gen parsedTour // the 'testdata accounts' command
	var parsed []parsedTour
	for _, tc := range tour {
		p := parseTour(t, tc)
		parsed = append(parsed, p)
		var inputs []string
		for name, v := range p.flags {
			if tourInputFlags[name] && p.files[name] {
				inputs = append(inputs, v)
			}
		}
		switch p.path {
		case "verify bundle", "publish", "policy show":
			inputs = append(inputs, p.pos...)
		}
		for _, in := range inputs {
			if madeBy(in) {
				continue
			}
			if _, err := os.Stat(filepath.Join("..", "..", in)); err != nil {
				t.Errorf("tour: %q reads %s, which neither the checkout holds nor an earlier command makes", tc.line, in)
			}
		}
		for name, v := range p.flags {
			if tourOutputFlags[name] {
				made = append(made, v)
			}
		}
		switch p.path {
		case "run":
			proven[filepath.Join(p.flags["state"], "liabilities")] = true
		case "prove":
			if d, ok := p.flags["liabilities"]; ok {
				proven[d] = true
			}
		case "testdata accounts":
			accountsCSV, gen = p.flags["out"], p
		case "liabilities proof":
			proofDir, proofAccount = p.flags["dir"], p.flags["account"]
		case "verify inclusion":
			verifyAccount = p.flags["account"]
		}
	}
	// The address run records the bundles at is the one serve listens on, and the chain the
	// auditors and users read is that server's.
	var recorded, served string
	for _, p := range parsed {
		switch p.path {
		case "run":
			recorded = strings.TrimRight(p.all["bundle-url"], "/")
		case "serve":
			served = "http://" + p.all["http"]
		}
	}
	if recorded == "" || recorded != served {
		t.Errorf("tour: run records the bundles at %q, serve listens at %q", recorded, served)
	}
	for _, p := range parsed {
		if rpc, ok := p.flags["rpc"]; ok && rpc != served+"/rpc" {
			t.Errorf("tour: %q reads the chain at %s, not at the server's %s/rpc", p.line, rpc, served)
		}
	}
	if proofDir == "" || !proven[proofDir] {
		t.Errorf("tour: the user's proof comes from %q, which no earlier command proved (proven: %v)", proofDir, proven)
	}
	if proofAccount == "" || proofAccount != verifyAccount {
		t.Errorf("tour: the proof is for %q, the check types %q", proofAccount, verifyAccount)
	}
	if accountsCSV == "" {
		t.Fatal("tour: no command generates the accounts")
	}

	// Run the quick ones as written, in order, in a directory holding the checkout's testdata.
	work := t.TempDir()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(repo, "testdata"), filepath.Join(work, "testdata")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	quick := map[string]bool{"testdata accounts": true, "liabilities build": true, "risk": true, "policy show": true, "liabilities proof": true}
	for _, p := range parsed {
		if !quick[p.path] {
			continue
		}
		args := p.args
		if p.path == "liabilities proof" && !proven[p.flags["dir"]] {
			continue // reported above
		}
		if p.path == "liabilities proof" && p.flags["dir"] != "liab" {
			// The run's snapshot is generated as 'testdata accounts' generates: same seed, count
			// and asset table (checked below), so the id is looked up in the tour's own snapshot.
			args = replaceFlag(args, "--dir", "liab")
		}
		var out, errw bytes.Buffer
		root := newRootCmd()
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&errw)
		if err := root.Execute(); err != nil {
			t.Fatalf("tour: %q: %v\n%s%s", p.line, err, out.String(), errw.String())
		}
		t.Logf("ran %q", p.line)
	}
	if _, err := os.Stat(filepath.Join(work, "me.json")); err != nil {
		t.Errorf("the user's proof was not written: %v", err)
	}
	// A run generates its accounts with the same generator, from its config's count and seed and
	// its policy's asset table: the tour's id exists in its snapshot only if all three are the
	// ones 'testdata accounts' used.
	for _, p := range parsed {
		if p.path != "run" {
			continue
		}
		cfg, err := engine.LoadConfig(filepath.Join(repo, p.flags["config"]))
		if err != nil {
			t.Fatal(err)
		}
		pf, err := policy.Load(cfg.Path(cfg.Policy))
		if err != nil {
			t.Fatal(err)
		}
		tab, err := assets.Load(filepath.Join(repo, gen.flags["assets"]))
		if err != nil {
			t.Fatal(err)
		}
		h := poseidon.NewHasher()
		if pf.Table().Hash(h) != tab.Hash(h) || strconv.Itoa(cfg.Accounts.Users) != gen.flags["users"] ||
			strconv.FormatUint(cfg.Accounts.Seed, 10) != gen.flags["seed"] {
			t.Errorf("%q generates other accounts than %q: the tour's account id may not exist in its snapshot", p.line, gen.line)
		}
	}
}

// replaceFlag returns args with flag's value replaced.
func replaceFlag(args []string, flag, v string) []string {
	out := append([]string(nil), args...)
	for i := range out {
		if out[i] == flag && i+1 < len(out) {
			out[i+1] = v
		}
	}
	return out
}
