package verifier_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/verifier"
)

// FuzzVerifyBundle_Manifest feeds arbitrary manifest bytes to the verifier beside the fixture's
// real proofs and keys. It must never panic; every input is unusable (ErrUnusable) or checked;
// and an accepted manifest must state exactly what the real one states (the same statement
// words, LC, batch digests and tree): only unbound metadata may differ.
//
//	go test -run '^$' -fuzz FuzzVerifyBundle_Manifest -fuzztime 1m ./verifier
func FuzzVerifyBundle_Manifest(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join(fx.Bundle, bundle.ManifestFile))
	if err != nil {
		f.Fatal(err)
	}
	orig, err := bundle.DecodeManifest(raw)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(bytes.Replace(raw, []byte(`"batches": 3`), []byte(`"batches": 2`), 1))
	f.Add(bytes.Replace(raw, []byte(`"index": 1`), []byte(`"index": 2`), 1))
	f.Add(bytes.Replace(raw, []byte("0x"), []byte("0X"), 1))
	f.Add([]byte(`{"version": 1}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	dir := filepath.Join(f.TempDir(), "bundle")
	copyDir(f, fx.Bundle, dir)
	path := filepath.Join(dir, bundle.ManifestFile)
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := verifier.VerifyBundle(dir, fx.Pins, verifier.Options{Workers: 1})
		if err != nil {
			if !errors.Is(err, verifier.ErrUnusable) {
				t.Fatalf("error that is not ErrUnusable: %v", err)
			}
			return
		}
		if !rep.Valid {
			return
		}
		m, err := bundle.DecodeManifest(b)
		if err != nil {
			t.Fatalf("accepted a manifest that does not decode: %v", err)
		}
		st, o := &m.Statement, &orig.Statement
		same := len(st.PublicInputs) == len(o.PublicInputs) && st.LC == o.LC && st.RC == o.RC &&
			st.PolicyHash == o.PolicyHash && st.Cycle == o.Cycle && st.ReservesBlock == o.ReservesBlock &&
			st.SnapshotEpoch == o.SnapshotEpoch && st.SnapshotTime == o.SnapshotTime &&
			len(m.Batches) == len(orig.Batches) && m.Liabilities.Root == orig.Liabilities.Root
		for i := 0; same && i < len(st.PublicInputs); i++ {
			same = st.PublicInputs[i] == o.PublicInputs[i]
		}
		for i := 0; same && i < len(m.Batches); i++ {
			same = m.Batches[i].Digest == orig.Batches[i].Digest && m.Batches[i].Before == orig.Batches[i].Before
		}
		if !same {
			t.Fatalf("accepted a manifest that states something else:\n%s", b)
		}
	})
}
