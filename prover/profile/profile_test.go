package profile

import (
	"testing"

	"github.com/solvency-dev/solvency/circuits/solvency"
)

func TestBuiltinsAreValid(t *testing.T) {
	names := Names()
	if len(names) < 3 {
		t.Fatalf("want at least test, demo, production; got %v", names)
	}
	for _, n := range names {
		p, err := Lookup(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		if p.Digest() == "" {
			t.Fatalf("%s has no digest", n)
		}
	}
	p, _ := Lookup("production")
	if p.BatchSize() != 512 {
		t.Fatalf("production batch size %d", p.BatchSize())
	}
	if _, err := Lookup("nope"); err == nil {
		t.Fatal("unknown profile found")
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	a, _ := Lookup("test")
	a.Assets = 99
	b, _ := Lookup("test")
	if b.Assets == 99 {
		t.Fatal("a caller changed the registry")
	}
	if a.Digest() == b.Digest() {
		t.Fatal("digest ignores a dimension")
	}
}

func TestValidate(t *testing.T) {
	p, _ := Lookup("test")
	bad := []func(*Profile){
		func(p *Profile) { p.Name = "" },
		func(p *Profile) { p.BatchHeight = 0 },
		func(p *Profile) { p.BatchHeight = MaxBatchHeight + 1 },
		func(p *Profile) { p.Assets = MaxAssets + 1 },
		func(p *Profile) { p.Venues = 0 },
		func(p *Profile) { p.Options = -1 },
		func(p *Profile) { p.Pools = 33 },
	}
	for i, f := range bad {
		q := p
		f(&q)
		if q.Validate() == nil {
			t.Fatalf("case %d accepted", i)
		}
	}
	for _, n := range []string{"", "Batch", "a/b", "..", "x y"} {
		if ValidCircuitName(n) == nil {
			t.Fatalf("circuit name %q accepted", n)
		}
	}
}

// TestProductionSolvencyWithinOneDomain: the production profile's solvency circuit, with its 8
// option and 4 pool slots, stays within 65,536 constraints (one 2^16 FFT domain).
func TestProductionSolvencyWithinOneDomain(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the production solvency circuit")
	}
	p, _ := Lookup("production")
	if p.Options != 8 || p.Pools != 4 {
		t.Fatalf("production has %d option and %d pool slots, want 8 and 4", p.Options, p.Pools)
	}
	n, _, err := solvency.Info(p.SolvencyShape())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("production solvency circuit: %d constraints", n)
	if n > 1<<16 {
		t.Fatalf("%d constraints exceed 65,536", n)
	}
}
