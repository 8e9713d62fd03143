package state

import (
	"math/big"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// Options and pool shares are recorded once, survive a reopen, and change only with a stage's
// effects, in the same transaction as its marker (an expired option settled at assessment).
func TestDerivativesPersistWithStage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := venues.Derivatives{
		Options: []derivatives.Option{{ID: "put", Venue: "derive", Underlying: "ETH", Right: derivatives.Put, Strike: 2400e8, Expiry: 100, Size: big.NewInt(5)}},
		Pools:   []derivatives.PoolShare{{ID: "lp", Venue: "uni", AssetA: "ETH", AssetB: "USDC", AmountA: big.NewInt(1), AmountB: big.NewInt(3000)}},
	}
	if got, err := s.Derivatives(); err != nil || !got.Empty() {
		t.Fatalf("before init: %+v %v", got, err)
	}
	if fresh, err := s.InitDerivatives(d); err != nil || !fresh {
		t.Fatalf("init: %v %v", fresh, err)
	}
	if fresh, err := s.InitDerivatives(venues.Derivatives{}); err != nil || fresh {
		t.Fatalf("a second init overwrote: %v %v", fresh, err)
	}
	if _, err := s.Init(startPositions(), testBook(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(1); err != nil {
		t.Fatal(err)
	}
	settled := venues.Derivatives{Pools: d.Pools}
	if err := s.Advance(1, StageAssessed, nil, Effects{Derivatives: &settled}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Derivatives()
	if err != nil || !reflect.DeepEqual(got, settled) {
		t.Fatalf("after reopen %+v %v, want %+v", got, err, settled)
	}
}
