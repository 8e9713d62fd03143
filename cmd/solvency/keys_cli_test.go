package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/prover/toycircuits"
)

// runToy runs the CLI as run does, with setup and ceremony wired to the toy circuits (the real
// circuits are registered in profile.Circuits), and returns the exit code and outputs.
func runToy(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	root := newRootCmd()
	for _, c := range root.Commands() {
		if c.Name() == "setup" || c.Name() == "ceremony" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newSetupCmdWith(toycircuits.Specs), newCeremonyCmdWith(toycircuits.Specs))
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		stderr.WriteString("solvency: " + err.Error() + "\n") // as run prints it
	}
	return exitCode(err), stdout.String(), stderr.String()
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		return ee.code
	}
	return 2
}

func TestSetupCLIDevKeys(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SOLVENCY_CACHE", filepath.Join(dir, "cache"))
	out := filepath.Join(dir, "keys")
	code, stdout, stderr := runToy(t, "setup", "--profile", "test", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("setup exited %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "NOT fit for production") {
		t.Fatalf("setup did not warn on stderr: %q", stderr)
	}
	var res setupResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json output %q: %v", stdout, err)
	}
	if res.Trust != keys.TrustDev || len(res.Circuits) != 2 || res.Warning == "" {
		t.Fatalf("unexpected result %+v", res)
	}
	k, err := keys.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if k.Meta.Trust != keys.TrustDev || !strings.Contains(k.Meta.TrustLine(), "NOT fit for production") {
		t.Fatalf("metadata does not record dev trust: %+v", k.Meta)
	}

	// A second run refuses to overwrite the keys before compiling anything, and names the flag
	// that would; with it, the run reuses the compiled-circuit cache.
	code, _, stderr = runToy(t, "setup", "--profile", "test", "--out", out)
	if code != exitBadInput || !strings.Contains(stderr, "--replace") {
		t.Fatalf("setup over an existing keys directory exited %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "circuit ") {
		t.Fatalf("setup compiled before refusing the existing directory: %s", stderr)
	}
	code, _, stderr = runToy(t, "setup", "--profile", "test", "--out", out, "--replace")
	if code != 0 {
		t.Fatal("setup --replace failed")
	}
	if !strings.Contains(stderr, "loaded from cache") {
		t.Fatalf("second setup did not use the cache: %s", stderr)
	}

	if code, _, _ := runToy(t, "setup", "--profile", "nope", "--out", out); code != exitBadInput {
		t.Fatalf("unknown profile exited %d, want %d", code, exitBadInput)
	}
}

func TestSetupCLINoCircuitsRegistered(t *testing.T) {
	if len(profile.Circuits()) != 0 {
		t.Skip("circuits are registered")
	}
	t.Setenv("SOLVENCY_CACHE", t.TempDir())
	code := run([]string{"setup", "--profile", "test", "--out", filepath.Join(t.TempDir(), "k")})
	if code != exitBadInput {
		t.Fatalf("setup without circuits exited %d, want %d", code, exitBadInput)
	}
}

func TestV1_CeremonyCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits or compiles contracts: run without -short")
	}
	dir := t.TempDir()
	t.Setenv("SOLVENCY_CACHE", filepath.Join(dir, "cache"))
	cer := filepath.Join(dir, "ceremony")
	must := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runToy(t, args...)
		if code != 0 {
			t.Fatalf("%v exited %d: %s", args, code, stderr)
		}
		return stdout
	}
	must("ceremony", "init", "--profile", "test", "--out", cer)
	must("ceremony", "contribute", "--dir", cer)
	must("ceremony", "contribute", "--in", filepath.Join(cer, "phase1", "0001.ph1"), "--out", filepath.Join(cer, "phase1", "0002.ph1"))
	must("ceremony", "contribute", "--dir", cer)
	if code, _, _ := runToy(t, "ceremony", "start-phase2", "--dir", cer, "--beacon", "00"); code != exitBadInput {
		t.Fatalf("short beacon exited %d", code)
	}
	must("ceremony", "start-phase2", "--dir", cer, "--beacon", strings.Repeat("ab", 32))
	for i := 0; i < 3; i++ {
		must("ceremony", "contribute", "--dir", cer)
	}
	out := filepath.Join(dir, "keys")
	fin := must("ceremony", "finalize", "--dir", cer, "--beacon", strings.Repeat("cd", 32), "--out", out, "--json")
	var res ceremonyVerifyResult
	if err := json.Unmarshal([]byte(fin), &res); err != nil {
		t.Fatal(err)
	}
	if !res.Valid || res.Phase1Contributions != 3 || res.Phase2Contributions["toybatch"] != 3 || len(res.VerifyingKeys) != 2 {
		t.Fatalf("finalize result %+v", res)
	}
	ver := must("ceremony", "verify", "--dir", cer, "--keys", out)
	if !strings.Contains(ver, res.TranscriptDigest) || !strings.Contains(ver, "are the ones this transcript derives") ||
		!strings.Contains(ver, "circuits compiled from source") {
		t.Fatalf("verify output: %s", ver)
	}

	// Dev keys are not the ceremony's: exit 1, saying why.
	dev := filepath.Join(dir, "dev")
	must("setup", "--profile", "test", "--out", dev)
	code, stdout, stderr := runToy(t, "ceremony", "verify", "--dir", cer, "--keys", dev, "--json")
	if code != exitInvalid || !strings.Contains(stderr, "not derived from the pinned setup") {
		t.Fatalf("dev keys: exit %d, stderr %s", code, stderr)
	}
	var bad ceremonyVerifyResult
	if err := json.Unmarshal([]byte(stdout), &bad); err != nil || bad.Valid {
		t.Fatalf("dev keys JSON %q (%v)", stdout, err)
	}
	if code, _, _ := runToy(t, "ceremony", "verify", "--dir", filepath.Join(dir, "absent")); code != exitBadInput {
		t.Fatalf("missing directory exited %d", code)
	}
}

// TestCeremonyRefusesExistingOutBeforeWork: init and finalize refuse an existing --out before
// compiling or verifying anything, and say what to do.
func TestCeremonyRefusesExistingOutBeforeWork(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SOLVENCY_CACHE", filepath.Join(dir, "cache"))
	for _, args := range [][]string{
		{"ceremony", "init", "--profile", "test", "--out", dir},
		{"ceremony", "finalize", "--dir", filepath.Join(dir, "absent"), "--beacon", strings.Repeat("cd", 32), "--out", dir},
	} {
		code, _, stderr := runToy(t, args...)
		if code != exitBadInput || !strings.Contains(stderr, "already exists; choose another path") {
			t.Fatalf("%v exited %d: %s", args, code, stderr)
		}
		if strings.Contains(stderr, "circuit ") {
			t.Fatalf("%v compiled before refusing: %s", args, stderr)
		}
	}
}
