package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/internal/cyclefixture"
	"github.com/solvency-dev/solvency/web/serve"
)

// servedBundle serves a copy of a bundle at BASE/bundles/DIGEST/, as 'solvency serve' lays it
// out, from a directory the test can change.
func servedBundle(t *testing.T, dir string, digest [32]byte) (base, served string) {
	t.Helper()
	served = filepath.Join(t.TempDir(), "served")
	cyclefixture.CopyDir(t, dir, served)
	prefix := fmt.Sprintf("/bundles/%x/", digest)
	mux := http.NewServeMux()
	mux.Handle(prefix, http.StripPrefix(prefix, http.FileServer(http.Dir(served))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, served
}

// TestV8_PublishedURLIsFetchedAndCheckedAgainstTheChain: a bundle published with a base URL
// records BASE/bundles/DIGEST on chain; a user whose operator's folder is gone (another machine)
// fetches it, checks its digest and is COUNTED; `verify bundle URL` fetches it too. A changed
// byte at the URL (the manifest, or a proof it pins) is refused, naming the digest, with exit 1.
func TestV8_PublishedURLIsFetchedAndCheckedAgainstTheChain(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits or compiles contracts: run without -short")
	}
	c := newChainCycle(t)
	acct := c.fx.Data.Accounts[0].ID
	p, err := c.fx.Store.Proof(acct)
	if err != nil {
		t.Fatal(err)
	}
	proofFile := filepath.Join(c.dir, "me.json")
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(proofFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	dir, m := c.prove("op", 1, &c.policy, c.prices, c.head())
	manifest, err := os.ReadFile(filepath.Join(dir, bundle.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(manifest)
	base, served := servedBundle(t, dir, digest)

	// Published through the command, with the operator's base URL.
	var pub bytes.Buffer
	cmd := newPublishCmd()
	cmd.SetOut(&pub)
	cmd.SetErr(io.Discard)
	keyFile := filepath.Join(c.dir, "chain", "dev.key")
	cmd.SetArgs([]string{dir, "--rpc", c.rpc, "--key", keyFile, "--addresses", c.addrFile, "--bundle-url", base + "/"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("publish --bundle-url: %v\n%s", err, pub.String())
	}
	want := fmt.Sprintf("%s/bundles/%x", base, digest)
	rec, err := c.reg.Record(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if rec.BundleURI != want || !strings.Contains(pub.String(), want) {
		t.Fatalf("recorded bundle URI %q, want %q; publish said:\n%s", rec.BundleURI, want, pub.String())
	}

	// The operator's folder is gone: only the URL on chain can be read.
	if err := os.Rename(dir, dir+".moved"); err != nil {
		t.Fatal(err)
	}
	o := verifyInclusionOptions{proofFile: proofFile, account: acct, keysFrom: c.fx.KeysDir, rpc: c.rpc, addresses: c.addrFile}
	out, code, err := verifyInclusion(t, o)
	if code != 0 || !strings.HasPrefix(out, "COUNTED") || !strings.Contains(out, "bundle fetched from "+want) {
		t.Fatalf("fetched bundle: exit %d (%v)\n%s", code, err, out)
	}
	t.Logf("fetched:\n%s", out)

	// verify bundle URL, with the digest given and with the digest read from the chain.
	for _, args := range [][]string{
		{"--digest", fmt.Sprintf("%X", digest)},
		{"--rpc", c.rpc, "--addresses", c.addrFile},
	} {
		var bo, be bytes.Buffer
		vo := &verifyBundleOptions{dir: want + "/", keysFrom: c.fx.KeysDir}
		if args[0] == "--digest" {
			vo.digest = args[1]
		} else {
			vo.dir, vo.rpc, vo.addresses = want, args[1], args[3]
		}
		if err := runVerifyBundle(context.Background(), &bo, &be, vo); err != nil || !strings.Contains(bo.String(), "bundle valid") ||
			!strings.Contains(be.String(), "fetched from") {
			t.Fatalf("verify bundle %s %v: %v\n%s%s", want, args, err, bo.String(), be.String())
		}
	}
	var bo bytes.Buffer
	if err := runVerifyBundle(context.Background(), &bo, io.Discard, &verifyBundleOptions{dir: want, keysFrom: c.fx.KeysDir}); exitCode(err) != exitBadInput {
		t.Fatalf("verify bundle URL without a digest: %v", err)
	}

	// A changed byte at the URL: first in a batch proof the manifest pins, then in the manifest.
	proof := filepath.Join(served, filepath.FromSlash(m.Batches[0].Path))
	for _, f := range []string{proof, filepath.Join(served, bundle.ManifestFile)} {
		orig, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		changed := bytes.Clone(orig)
		changed[len(changed)/2] ^= 1
		if err := os.WriteFile(f, changed, 0o644); err != nil {
			t.Fatal(err)
		}
		out, code, err := verifyInclusion(t, o)
		if code != exitInvalid || err == nil || strings.Contains(out, "COUNTED") && !strings.Contains(out, "NOT COUNTED") {
			t.Fatalf("%s changed at the URL: exit %d (%v)\n%s", f, code, err, out)
		}
		named := fmt.Sprintf("%x", digest)
		if f == proof {
			named = m.Batches[0].SHA256
		}
		if !strings.Contains(err.Error(), named) || !strings.Contains(err.Error(), "NOT COUNTED") {
			t.Errorf("%s changed: the refusal does not name digest %s: %v", f, named, err)
		}
		err = runVerifyBundle(context.Background(), io.Discard, io.Discard, &verifyBundleOptions{dir: want, digest: fmt.Sprintf("%x", digest), keysFrom: c.fx.KeysDir})
		if exitCode(err) != exitInvalid || !strings.Contains(err.Error(), named) {
			t.Errorf("verify bundle, %s changed: %v", f, err)
		}
		t.Logf("%s changed: %v", filepath.Base(f), err)
		if err := os.WriteFile(f, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// As the demo does it: 'solvency serve''s handler serves the state's bundles and the chain
	// (read-only) at one address, which the engine records; the user's check goes through both.
	d2, m2 := c.prove("op2", 2, &c.policy, c.prices, c.head())
	state := filepath.Join(c.dir, "state")
	cyclefixture.CopyDir(t, d2, filepath.Join(state, "cycles", "000002", "bundle"))
	h, err := serve.New(serve.Options{StateDir: state, RPC: c.rpc})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	// What EVMChain.Publish sends when its BundleURL is set.
	a, err := contracts.BundleAttestationAt(d2, m2, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.reg.Publish(context.Background(), c.chain, a); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(d2)
	o.rpc = srv.URL + "/rpc"
	out, code, err = verifyInclusion(t, o)
	if code != 0 || !strings.HasPrefix(out, "COUNTED") || !strings.Contains(out, "bundle fetched from "+srv.URL+"/bundles/") ||
		!strings.Contains(out, "cycle 2") {
		t.Fatalf("through serve: exit %d (%v)\n%s", code, err, out)
	}
}

// TestBundleURLRefusedWithCredentials: a base URL is public on chain, so one carrying
// credentials, a query or another scheme is refused before anything is sent; credentials in a
// URL a user gives never appear in a message.
func TestBundleURLRefusedWithCredentials(t *testing.T) {
	for _, u := range []string{"ftp://h/x", "https://user:secret@h", "https://h/x?token=secret", "https:///x", "file:///tmp/b"} {
		if err := contracts.CheckBundleURL(u); err == nil {
			t.Errorf("%s: accepted", u)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the secret: %v", u, err)
		}
	}
	if err := contracts.CheckBundleURL("https://proofs.example.org/solvency/"); err != nil {
		t.Errorf("a plain https base: %v", err)
	}
	uri, err := contracts.BundleURI("https://proofs.example.org/p/", [32]byte{1})
	if err != nil || uri != "https://proofs.example.org/p/bundles/01"+strings.Repeat("00", 31) {
		t.Errorf("BundleURI: %q, %v", uri, err)
	}
	// A refused connection: Go's client quotes the whole URL in its error.
	raw := "http://alice:hunter2@127.0.0.1:1/bundles/ab?key=hunter3"
	_, err = fetchBundleArg(context.Background(), io.Discard, &verifyBundleOptions{dir: raw, digest: strings.Repeat("ab", 32)})
	if err == nil || strings.Contains(err.Error(), "hunter") {
		t.Errorf("fetch error shows credentials: %v", err)
	}
	t.Logf("refused fetch: %v", err)
	// A URL handed over without the chain: nothing pins its digest, so it is not fetched.
	_, code, err := verifyInclusion(t, verifyInclusionOptions{proofFile: "no-such.json", account: "a", keysFrom: "k", bundle: raw})
	if code != exitBadInput || err == nil || strings.Contains(err.Error(), "hunter") || !strings.Contains(err.Error(), "--rpc") {
		t.Errorf("--bundle URL without --rpc: exit %d, %v", code, err)
	}
	if s := redactBundleURL(raw); strings.Contains(s, "hunter") || !strings.Contains(s, "/bundles/ab") {
		t.Errorf("redactBundleURL: %s", s)
	}
}
