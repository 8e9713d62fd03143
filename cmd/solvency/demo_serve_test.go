package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoRecordsItsServeAddress: the demo records its bundles at the address its state is
// served at (http://127.0.0.1:8080 unless --http or --bundle-url say otherwise), and its closing
// lines give the one command that serves the state and the check that goes through it.
func TestDemoRecordsItsServeAddress(t *testing.T) {
	for _, c := range []struct {
		o    demoOptions
		want string
	}{
		{demoOptions{http: "127.0.0.1:8080"}, "http://127.0.0.1:8080"},
		{demoOptions{http: "127.0.0.1:9000"}, "http://127.0.0.1:9000"},
		{demoOptions{http: "127.0.0.1:8080", bundle: "https://proofs.example.org/dao"}, "https://proofs.example.org/dao"},
	} {
		got, err := demoBundleURL(&c.o)
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v; want %q", c.o, got, err, c.want)
		}
	}
	if _, err := demoBundleURL(&demoOptions{http: "127.0.0.1:8080", bundle: "https://u:secret@h"}); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("a bundle URL with credentials: %v", err)
	}

	var out bytes.Buffer
	o := &demoOptions{dir: "d", cycles: 3, http: "127.0.0.1:9000"}
	printDemoEnd(&out, o, "http://127.0.0.1:9000", "d/state/liabilities", "0xR", "chain", "d/user-proof-u1.json", "u1", time.Minute)
	s := out.String()
	abs, _ := filepath.Abs("d")
	for _, want := range []string{
		"serve --state " + abs + " --http 127.0.0.1:9000",
		"http://127.0.0.1:9000/verify/",
		"http://127.0.0.1:9000/report",
		"recorded on chain at http://127.0.0.1:9000/bundles/DIGEST",
		"verify inclusion --proof " + filepath.Join(abs, "user-proof-u1.json") + " --account u1",
		"--rpc http://127.0.0.1:9000/rpc --addresses " + filepath.Join(abs, "state", "addresses.json"),
	} {
		if !strings.Contains(s, want) {
			t.Errorf("closing lines lack %q:\n%s", want, s)
		}
	}
	out.Reset()
	o.serve = true
	printDemoEnd(&out, o, "http://127.0.0.1:9000", "d/state/liabilities", "0xR", "chain", "d/user-proof-u1.json", "u1", time.Minute)
	if !strings.Contains(out.String(), "Serving the demo's state now") {
		t.Errorf("--serve: closing lines do not say it is serving:\n%s", out.String())
	}
}

// TestDemoServeRefusesNonLoopbackBeforeWork: `demo --serve --http 0.0.0.0:8080` stops with exit 2
// before it writes anything.
func TestDemoServeRefusesNonLoopbackBeforeWork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	err := runDemo(context.Background(), io.Discard, io.Discard, &demoOptions{dir: dir, users: 10, cycles: 1, serve: true, http: "0.0.0.0:8080"})
	if exitCode(err) != exitBadInput || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("non-loopback: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the demo wrote %s before refusing", dir)
	}
}

// TestPublishSaysWhereUsersFetch: a file:// bundle is said to be checkable only on this machine;
// an http(s) one names where users fetch it.
func TestPublishSaysWhereUsersFetch(t *testing.T) {
	var out bytes.Buffer
	printBundleWhere(&out, "file:///srv/op/bundle", true)
	if !strings.Contains(out.String(), "only be checked on this machine") || !strings.Contains(out.String(), "--bundle-url") {
		t.Errorf("file://: %s", out.String())
	}
	out.Reset()
	printBundleWhere(&out, "https://proofs.example.org/bundles/ab", true)
	if !strings.Contains(out.String(), "users fetch the bundle from https://proofs.example.org/bundles/ab/") {
		t.Errorf("https: %s", out.String())
	}
}
