package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runDevnet is called without a process: no --datadir is unusable input; otherwise it starts
// the chain, writes the key copy, and stops when its context ends.
func TestRunDevnetWithoutProcess(t *testing.T) {
	if err := runDevnet(context.Background(), io.Discard, io.Discard, &devnetOptions{}); exitCode(err) != exitBadInput {
		t.Fatalf("no --datadir: %v, want exit %d", err, exitBadInput)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stop as soon as it runs
	var out, errw bytes.Buffer
	keyOut := filepath.Join(dir, "copy.key")
	o := &devnetOptions{dataDir: filepath.Join(dir, "chain"), httpAddr: "127.0.0.1:0", keyOut: keyOut}
	if err := runDevnet(ctx, &out, &errw, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dev chain 1337 running") || !strings.Contains(out.String(), keyOut) {
		t.Fatalf("output: %s", out.String())
	}
	if !strings.Contains(errw.String(), "dev chain stopped") {
		t.Fatalf("stderr: %s", errw.String())
	}
	orig, err := os.ReadFile(filepath.Join(dir, "chain", "dev.key"))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := os.ReadFile(keyOut)
	if err != nil || !bytes.Equal(orig, cp) {
		t.Fatalf("the key copy differs from the chain's key (%v)", err)
	}
}
