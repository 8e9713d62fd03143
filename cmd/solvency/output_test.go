package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestPrintDocumentPutsOKFirst(t *testing.T) {
	var b bytes.Buffer
	doc := struct {
		Amount string `json:"amount_usd"`
		Count  int    `json:"count"`
	}{"12.50", 3}
	if err := printDocument(&b, true, doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "{\n  \"ok\": true,\n  \"amount_usd\": \"12.50\"") {
		t.Fatalf("document: %s", b.String())
	}
	b.Reset()
	if err := printDocument(&b, false, struct{}{}); err != nil || strings.TrimSpace(b.String()) != "{\n  \"ok\": false\n}" {
		t.Fatalf("empty document: %q, %v", b.String(), err)
	}
}

func TestPrintDocumentRefusesNonObjectsAndContradictingOK(t *testing.T) {
	var b bytes.Buffer
	if err := printDocument(&b, true, []int{1}); err == nil {
		t.Fatal("an array was printed as a document")
	}
	if err := printDocument(&b, true, map[string]bool{"ok": false}); err == nil {
		t.Fatal("a document whose own ok field contradicts the command's was printed")
	}
	if b.Len() != 0 {
		t.Fatalf("refused documents wrote %q", b.String())
	}
	// A report that carries its own agreeing verdict is printed once, as it is.
	if err := printDocument(&b, false, struct {
		OK     bool   `json:"ok"`
		Reason string `json:"reason"`
	}{false, "x"}); err != nil || strings.Count(b.String(), `"ok"`) != 1 {
		t.Fatalf("own ok: %q, %v", b.String(), err)
	}
}

// runCaptured runs the CLI as run does, with stdout and stderr captured.
func runCaptured(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runRootCaptured(newRootCmd(), args...)
}

func runRootCaptured(root *cobra.Command, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := runRoot(root, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestJSONErrorObjectOnExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"policy", "show", "--json", filepath.Join(t.TempDir(), "missing.json")}, // the command's own error
		{"policy", "show", "--json", "--no-such-flag", "x"},                      // a flag error
	} {
		code, stdout, stderr := runCaptured(t, args...)
		if code != exitBadInput || !strings.Contains(stderr, "solvency:") {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
		var e jsonError
		if err := json.Unmarshal([]byte(stdout), &e); err != nil {
			t.Fatalf("%v: stdout is not the error object: %q: %v", args, stdout, err)
		}
		if e.OK || e.ExitCode != exitBadInput || e.Error == "" {
			t.Fatalf("%v: error object %+v", args, e)
		}
	}
	// A command that printed its own document for unusable input gets no second one.
	root := newRootCmd()
	var asJSON bool
	own := &cobra.Command{Use: "own", RunE: func(cmd *cobra.Command, _ []string) error {
		if err := printDocument(cmd.OutOrStdout(), false, struct {
			Reason string `json:"reason"`
		}{"bad input"}); err != nil {
			return err
		}
		return exitError(exitBadInput, errors.New("bad input"))
	}}
	own.Flags().BoolVar(&asJSON, "json", false, "")
	root.AddCommand(own)
	code, stdout, _ := runRootCaptured(root, "own", "--json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); code != exitBadInput || err != nil || doc["exit_code"] != nil {
		t.Fatalf("own document: exit %d, %v, stdout %q", code, err, stdout)
	}
	// Without --json, stdout stays empty.
	if code, stdout, _ := runCaptured(t, "policy", "show", filepath.Join(t.TempDir(), "missing.json")); code != exitBadInput || stdout != "" {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
}

// TestContractsDeployRefusesExistingRecord: an existing addresses file is the record of an earlier
// deployment; deploy refuses it before compiling or dialing anything, and names --replace.
func TestContractsDeployRefusesExistingRecord(t *testing.T) {
	out := filepath.Join(t.TempDir(), "addresses.json")
	if err := os.WriteFile(out, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The endpoint is unreachable: reaching it would fail differently.
	code, stdout, stderr := runCaptured(t, "contracts", "deploy", "--rpc", "http://127.0.0.1:1", "--vk", "missing.vk",
		"--assets", "2", "--dev-feeds", "--out", out, "--json")
	if code != exitBadInput || !strings.Contains(stderr, "--replace") || !strings.Contains(stderr, "deployment record") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, `"exit_code": 2`) {
		t.Fatalf("stdout %q", stdout)
	}
	raw, _ := os.ReadFile(out)
	if string(raw) != "{}\n" {
		t.Fatalf("the record was changed: %q", raw)
	}
}

// TestJSONDocsListEveryCommand: every command with --json has its document in docs/json.md.
func TestJSONDocsListEveryCommand(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("json") != nil {
			name := strings.TrimPrefix(c.CommandPath(), "solvency ")
			if !strings.Contains(string(raw), "`"+name+"`") {
				t.Errorf("docs/json.md does not list `%s`", name)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd())
	if n := strings.Count(string(raw), "\n| `"); n < 20 {
		t.Fatalf("docs/json.md lists %d commands", n)
	}
}
