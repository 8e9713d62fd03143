package contracts

import (
	"path/filepath"
	"strings"
	"testing"
)

// A directory without a manifest is read through its statement file; a base URL replaces the
// statement's bundle address with BASE/bundles/DIGEST.
func TestReadPublishInputStatementFile(t *testing.T) {
	dir := t.TempDir()
	a := sampleAttestation()
	if err := WriteStatementFile(filepath.Join(dir, StatementFileName), a); err != nil {
		t.Fatal(err)
	}
	got, fromManifest, err := ReadPublishInput(dir, "")
	if err != nil || fromManifest || got.BundleURI != a.BundleURI || got.Cycle != a.Cycle {
		t.Fatalf("got %+v, %v, %v", got, fromManifest, err)
	}
	got, _, err = ReadPublishInput(filepath.Join(dir, StatementFileName), "https://proofs.example.org")
	if err != nil {
		t.Fatal(err)
	}
	want, err := BundleURI("https://proofs.example.org", a.BundleDigest)
	if err != nil || got.BundleURI != want || !strings.HasPrefix(want, "https://proofs.example.org/bundles/") {
		t.Fatalf("bundle address %q, want %q (%v)", got.BundleURI, want, err)
	}
	if _, _, err := ReadPublishInput(dir, "ftp://h"); err == nil {
		t.Fatal("an ftp base URL was accepted")
	}
	if _, _, err := ReadPublishInput(t.TempDir(), ""); err == nil {
		t.Fatal("a directory with neither a manifest nor a statement was read")
	}
}
