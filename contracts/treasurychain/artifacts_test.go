package treasurychain

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestArtifactsMatchRecompile recompiles every treasury contract from the pinned npm packages
// with the pinned compilers (the aggregator: converts the build @uniswap/v3-periphery ships) and
// compares the output with the committed artifacts byte for byte.
func TestArtifactsMatchRecompile(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits or compiles contracts: run without -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH (run scripts/setup.sh): %v", err)
	}
	if _, err := os.Stat("../node_modules/solc-0.5.16"); err != nil {
		t.Fatalf("contracts/node_modules lacks the pinned compilers: run scripts/setup.sh: %v", err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("tools", "compile-treasury.js"), out)
	cmd.Dir = ".."
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compile-treasury.js: %v: %s", err, msg)
	}
	for _, name := range ArtifactNames {
		got, err := os.ReadFile(filepath.Join(out, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("artifacts", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("artifacts/%s.json differs from a fresh compilation: run go generate ./contracts/treasurychain", name)
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(ArtifactNames) {
		t.Errorf("the compiler wrote %d artifacts, ArtifactNames lists %d", len(entries), len(ArtifactNames))
	}
}
