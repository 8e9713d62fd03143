package circuitcache

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/prover/toycircuits"
)

func TestCacheHitMissAndRebuild(t *testing.T) {
	p, err := profile.Lookup("test")
	if err != nil {
		t.Fatal(err)
	}
	spec := toycircuits.Specs()[0]
	c := Cache{Dir: t.TempDir()}

	first, err := c.Get(spec, p)
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached {
		t.Fatal("first Get claims a cache hit")
	}
	second, err := c.Get(spec, p)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Cached || second.R1CSDigest != first.R1CSDigest || second.CCS.GetNbConstraints() != first.CCS.GetNbConstraints() {
		t.Fatalf("second Get: cached %v, digest %s vs %s", second.Cached, second.R1CSDigest, first.R1CSDigest)
	}

	// Compilation is deterministic: the uncached digest is the same (auditors rely on this to
	// compare a ceremony's R1CS with one compiled from source).
	fresh, err := Cache{}.Get(spec, p)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.R1CSDigest != first.R1CSDigest {
		t.Fatalf("recompiling gives digest %s, first compile %s", fresh.R1CSDigest, first.R1CSDigest)
	}

	// A damaged R1CS is detected by digest and rebuilt.
	r1csPath, _ := c.paths(spec.Name, p.Name, first.ShapeDigest)
	b, err := os.ReadFile(r1csPath)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(r1csPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := c.Get(spec, p)
	if err != nil {
		t.Fatal(err)
	}
	if third.Cached || third.R1CSDigest != first.R1CSDigest {
		t.Fatalf("damaged entry: cached %v, digest %s", third.Cached, third.R1CSDigest)
	}
	if again, _ := c.Get(spec, p); !again.Cached {
		t.Fatal("the rebuilt entry was not written back")
	}

	// A new spec version or another profile is a different entry.
	bumped := spec
	bumped.Version = "2"
	v2, err := c.Get(bumped, p)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Cached || v2.ShapeDigest == first.ShapeDigest {
		t.Fatal("a new circuit version reused the old entry")
	}
	demo, _ := profile.Lookup("demo")
	d, err := c.Get(spec, demo)
	if err != nil {
		t.Fatal(err)
	}
	if d.Cached || d.CCS.GetNbConstraints() <= first.CCS.GetNbConstraints() {
		t.Fatal("another profile reused the test profile's entry")
	}
	entries, _ := filepath.Glob(filepath.Join(c.Dir, "*.r1cs"))
	if len(entries) != 3 {
		t.Fatalf("%d cache entries, want 3", len(entries))
	}
}

func TestShapeDigestSeesStructChanges(t *testing.T) {
	p, _ := profile.Lookup("test")
	specs := toycircuits.Specs()
	a, _ := specs[0].New(p)
	b, _ := specs[1].New(p)
	if ShapeDigest(specs[0], p, a) == ShapeDigest(specs[0], p, b) {
		t.Fatal("two different circuit types have the same shape digest")
	}
}

func TestGetAllRefusesEmptyAndDuplicates(t *testing.T) {
	p, _ := profile.Lookup("test")
	if _, err := (Cache{}).GetAll(nil, p); err == nil {
		t.Fatal("no circuits accepted")
	}
	s := toycircuits.Specs()[1]
	if _, err := (Cache{}).GetAll([]profile.CircuitSpec{s, s}, p); err == nil {
		t.Fatal("duplicate circuit accepted")
	}
}
