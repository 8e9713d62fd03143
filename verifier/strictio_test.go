package verifier_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/verifier"
)

// measure runs f and returns its duration and the bytes it allocated on the heap (an upper
// bound on what it added to the peak).
func measure(f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, after.TotalAlloc - before.TotalAlloc
}

func sparse(t *testing.T, path string, size int64) {
	t.Helper()
	os.Remove(path)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

const peakLimit = 200 << 20

// V8: a 1 GiB file in place of any of the bundle's files is refused within a second, in far less
// than 200 MB, with a message that says what and why.
func TestV8_OneGiBBundleFilesRefusedQuickly(t *testing.T) {
	m := readManifest(t, fx.Bundle)
	for _, rel := range []string{bundle.ManifestFile, bundle.SolvencyProof, m.Batches[1].Path, bundle.BatchVKFile, bundle.SolvencyVKFile} {
		t.Run(rel, func(t *testing.T) {
			dir := freshBundle(t)
			sparse(t, filepath.Join(dir, rel), 1<<30)
			var rep *verifier.Report
			var err error
			d, alloc := measure(func() { rep, err = verifier.VerifyBundle(dir, fx.Pins, verifier.Options{Workers: 1}) })
			msg := ""
			switch {
			case err != nil:
				msg = err.Error()
			case rep.Valid:
				t.Fatal("accepted")
			default:
				msg = rep.Failed().Detail
			}
			if !strings.Contains(msg, "1.0 GiB, over the") {
				t.Fatalf("message does not say the file is too large: %s", msg)
			}
			if d > time.Second || alloc > peakLimit {
				t.Fatalf("refusing took %s and %d MB", d, alloc>>20)
			}
			t.Logf("refused in %s, %.1f MB allocated: %s", d, float64(alloc)/(1<<20), msg)
		})
	}
}

// V8: a bundle file linked to /dev/zero is refused before it is read.
func TestV8_BundleFileLinkedToDevZeroRefused(t *testing.T) {
	m := readManifest(t, fx.Bundle)
	for _, rel := range []string{bundle.ManifestFile, bundle.SolvencyProof, m.Batches[0].Path, bundle.BatchVKFile, bundle.SolvencyVKFile} {
		t.Run(rel, func(t *testing.T) {
			dir := freshBundle(t)
			p := filepath.Join(dir, rel)
			os.Remove(p)
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
			var rep *verifier.Report
			var err error
			d, alloc := measure(func() { rep, err = verifier.VerifyBundle(dir, fx.Pins, verifier.Options{Workers: 1}) })
			msg := ""
			switch {
			case err != nil:
				msg = err.Error()
			case rep.Valid:
				t.Fatal("accepted")
			default:
				msg = rep.Failed().Detail
			}
			if !strings.Contains(msg, "is a device: want a regular file") {
				t.Fatalf("message: %s", msg)
			}
			if d > time.Second || alloc > peakLimit {
				t.Fatalf("refusing took %s and %d MB", d, alloc>>20)
			}
		})
	}
}

// crash292 is the verifying key that crashed `verify bundle`: valid points, then a point count
// of 0xCB000000, for which gnark allocated 218 GB before reading a single point.
func crash292(t *testing.T) []byte {
	t.Helper()
	vk, err := os.ReadFile(filepath.Join(fx.Bundle, bundle.BatchVKFile))
	if err != nil {
		t.Fatal(err)
	}
	b := binary.BigEndian.AppendUint32(bytes.Clone(vk[:288]), 0xCB000000)
	if len(b) != 292 {
		t.Fatal(len(b))
	}
	return b
}

// V3/V8: the 292-byte key is refused before it is parsed when it is not the pinned key, and the
// checked reader refuses it without allocating what its length prefix claims when it is parsed.
func TestV8_292ByteVerifyingKeyRefused(t *testing.T) {
	bad := crash292(t)
	d, alloc := measure(func() {
		if _, _, err := bundle.ParseVerifyingKey(bad); err == nil || !strings.Contains(err.Error(), "length prefix says 3405774848") {
			t.Errorf("ReadVerifyingKey: %v", err)
		}
	})
	if d > time.Second || alloc > 1<<20 {
		t.Fatalf("refusing took %s and %d bytes", d, alloc)
	}
	for _, rel := range []string{bundle.BatchVKFile, bundle.SolvencyVKFile} {
		dir := freshBundle(t)
		if err := os.WriteFile(filepath.Join(dir, rel), bad, 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := verifier.VerifyBundle(dir, fx.Pins, verifier.Options{Workers: 1})
		if err != nil || rep.Valid || !strings.Contains(rep.Failed().Detail, "but the pinned key is") {
			t.Fatalf("%s: err=%v report=%+v", rel, err, rep)
		}
		// Pinned by a careless auditor, it still reaches only the bounded reader.
		pins := bundle.Pins{}
		for k, v := range fx.Pins {
			pins[k] = v
		}
		circuit := bundle.BatchCircuit
		m := readManifest(t, dir)
		if rel == bundle.SolvencyVKFile {
			circuit = bundle.SolvencyCircuit
			m.Keys.SolvencyVK = bundle.SHA256Hex(bad)
		} else {
			m.Keys.BatchVK = bundle.SHA256Hex(bad)
		}
		pins[circuit] = bundle.SHA256Hex(bad)
		writeManifest(t, dir, m)
		rep, err = verifier.VerifyBundle(dir, pins, verifier.Options{Workers: 1})
		if err != nil || rep.Valid || !strings.Contains(rep.Failed().Detail, "length prefix") {
			t.Fatalf("%s pinned: err=%v report=%+v", rel, err, rep)
		}
	}
}

// V3: a proof whose commitment count claims billions is refused by its length, not allocated.
func TestV3_ProofLengthPrefixBounded(t *testing.T) {
	p, err := os.ReadFile(filepath.Join(fx.Bundle, bundle.SolvencyProof))
	if err != nil {
		t.Fatal(err)
	}
	bad := binary.BigEndian.AppendUint32(bytes.Clone(p[:128]), 0xFFFFFFFF)
	d, alloc := measure(func() {
		if _, err := bundle.ParseProof(bad); err == nil || !strings.Contains(err.Error(), "length prefix") {
			t.Errorf("ReadProof: %v", err)
		}
	})
	if d > time.Second || alloc > 1<<20 {
		t.Fatalf("refusing took %s and %d bytes", d, alloc)
	}
	if _, err := bundle.ParseProof(p); err != nil {
		t.Fatalf("the real proof: %v", err)
	}
}

// V3: the manifest's keys match exactly once: a repeated cycle (the last one used to win) and a
// key that differs only in case ("LC" for "lc") make the bundle unusable, naming key and place.
func TestV3_ManifestDuplicateAndCaseVariantKeysUnusable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(fx.Bundle, bundle.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, fx.Bundle)
	for name, c := range map[string]struct {
		edit func([]byte) []byte
		want string
	}{
		"cycle twice": {func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"cycle": `), []byte(`"cycle": 99, "cycle": `), 1)
		}, `key "statement.cycle": duplicate key`},
		"LC for lc": {func(b []byte) []byte { return bytes.Replace(b, []byte(`"lc":`), []byte(`"LC":`), 1) },
			`key "statement.LC": unknown field; keys are case-sensitive: did you mean "lc"?`},
		"lc and LC": {func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"lc":`), []byte(`"LC": "`+bundleHex(m)+`", "lc":`), 1)
		}, `key "statement.LC"`},
		"null": {func([]byte) []byte { return []byte("null") }, "the document is null"},
		"missing registry": {func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"registry":`), []byte(`"registryy":`), 1)
		}, `did you mean "registry"`},
		"trailing garbage": {func(b []byte) []byte { return append(bytes.Clone(b), " garbage"...) }, "trailing data"},
	} {
		t.Run(name, func(t *testing.T) {
			mut := c.edit(raw)
			if bytes.Equal(mut, raw) {
				t.Fatal("edit did nothing")
			}
			dir := freshBundle(t)
			if err := os.WriteFile(filepath.Join(dir, bundle.ManifestFile), mut, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := verifier.VerifyBundle(dir, fx.Pins, verifier.Options{Workers: 1})
			if !errors.Is(err, verifier.ErrUnusable) || !strings.Contains(err.Error(), c.want) ||
				!strings.Contains(err.Error(), "manifest.json:") {
				t.Fatalf("want ErrUnusable naming the file and %q, got %v", c.want, err)
			}
		})
	}
}

func bundleHex(m *bundle.Manifest) string {
	b, _ := m.Statement.LC.MarshalJSON()
	return strings.Trim(string(b), `"`)
}
