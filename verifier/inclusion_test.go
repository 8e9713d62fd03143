package verifier_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/verifier"
)

// TestV5_InclusionNotCountedWhenBundleFails: a user's proof whose path is fine is still refused
// as "counted" when the bundle behind the root does not verify (here: one batch proof removed
// from the chain by breaking its file), and a bundle for another snapshot is refused too.
func TestV5_InclusionNotCountedWhenBundleFails(t *testing.T) {
	acct := fx.Data.Accounts[0].ID
	p, err := fx.Store.Proof(acct)
	if err != nil {
		t.Fatal(err)
	}
	inc, _, err := verifier.CheckInclusion(p, acct, fx.Bundle, fx.Pins, verifier.Options{})
	if err != nil || !inc.Included {
		t.Fatalf("valid bundle: included=%v err=%v", inc != nil && inc.Included, err)
	}

	dir := freshBundle(t)
	m := readManifest(t, dir)
	proof := filepath.Join(dir, m.Batches[0].Path)
	if err := os.WriteFile(proof, []byte("not a proof"), 0o644); err != nil {
		t.Fatal(err)
	}
	inc, _, err = verifier.CheckInclusion(p, acct, dir, fx.Pins, verifier.Options{})
	if !errors.Is(err, verifier.ErrNotCounted) || inc.Included {
		t.Fatalf("broken bundle: err %v, included %v; want ErrNotCounted", err, inc != nil && inc.Included)
	}
}

// TestL7_InclusionForAnotherAccountRefused: a valid proof of another account (an operator
// handing a user someone else's proof), or no typed id at all, is refused before anything else.
func TestL7_InclusionForAnotherAccountRefused(t *testing.T) {
	p, err := fx.Store.Proof(fx.Data.Accounts[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, typed := range []string{fx.Data.Accounts[0].ID, ""} {
		if inc, _, err := verifier.CheckInclusion(p, typed, fx.Bundle, fx.Pins, verifier.Options{}); err == nil || inc != nil {
			t.Fatalf("typed %q, proof for %q: accepted", typed, p.AccountID)
		}
	}
}

// TestV1_TrustComesFromPinsNotFromTheBundle: a bundle that claims ceremony keys is reported with
// the pins' trust, and refused outright when the pins name no (or another) transcript.
func TestV1_TrustComesFromPinsNotFromTheBundle(t *testing.T) {
	dir := freshBundle(t)
	m := readManifest(t, dir)
	m.Trust = "ceremony"
	writeManifest(t, dir, m)
	ok, rep, err := accepted(t, dir, fx.Pins)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatal("a bundle claiming ceremony keys verified with pins from no transcript")
	}
	if rep.Trust == "ceremony" || rep.ClaimedTrust != "ceremony" {
		t.Fatalf("trust %q, claimed %q", rep.Trust, rep.ClaimedTrust)
	}
	failedCheck(t, rep, "pinned ceremony transcript")
}
