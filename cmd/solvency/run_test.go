package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/solvency-dev/solvency/treasury/sample"
)

// TestRunNeverEchoesRPCCredentials: an RPC URL's API key (in its path, query or user info) does
// not appear in what run prints when the endpoint fails.
func TestRunNeverEchoesRPCCredentials(t *testing.T) {
	dir := t.TempDir()
	cfg, err := sample.WriteTo(filepath.Join(dir, "sample"))
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte(strings.Repeat("11", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, rpc := range []string{
		"http://127.0.0.1:1/v2/SECRETPATHKEY",
		"http://127.0.0.1:1/?apikey=SECRETQUERYKEY",
		"http://user:SECRETPASSWORD@127.0.0.1:1/",
	} {
		var out, errw bytes.Buffer
		err := runRun(context.Background(), &out, &errw, &runOptions{config: cfg, cycles: 1, state: filepath.Join(dir, "state"), rpc: rpc, keyFile: key})
		if err == nil {
			t.Fatalf("%s: run succeeded against a closed port", rpc)
		}
		all := err.Error() + out.String() + errw.String()
		if strings.Contains(all, "SECRET") {
			t.Fatalf("credentials echoed: %s", all)
		}
		if !strings.Contains(all, "127.0.0.1:1") {
			t.Fatalf("the endpoint is not named at all: %s", all)
		}
	}
}

// TestDiskFullMessage: a full disk is explained (free space, run again, nothing lost) and keeps
// its cause for errors.Is; other errors pass unchanged.
func TestDiskFullMessage(t *testing.T) {
	full := fmt.Errorf("cycle 1: record proved: %w", &os.PathError{Op: "write", Path: "/s/state/treasury.db", Err: syscall.ENOSPC})
	err := explainDiskError(full, "/s")
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "disk holding /s is full") ||
		!strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("full disk: %v", err)
	}
	other := errors.New("other")
	if explainDiskError(other, "/s") != other {
		t.Fatal("another error was rewritten")
	}
}
