//go:build !js

package verifier

import (
	"math/big"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/solvency"
)

// TestR1_OffChainVenueWithoutBalanceNamed: an opening that names a venue as off chain (no
// contract to read) needs an observed balance for each of its amounts there; one missing is
// refused naming the venue, and given, the check passes.
func TestR1_OffChainVenueWithoutBalanceNamed(t *testing.T) {
	m := &bundle.ChainMap{Version: bundle.ChainMapVersion, OffChain: []bundle.OffChainVenue{{Venue: 4, Name: "gmx"}}}
	pos := []solvency.Position{{Venue: 0, Asset: 3, Amount: big.NewInt(5)}, {Venue: 4, Asset: 0, Amount: big.NewInt(-7)}}
	c, ok := offChainCovered(m, pos, nil)
	if !ok || c.OK || !strings.Contains(c.Detail, "gmx asset 0") || !strings.Contains(c.Name, "gmx (venue 4)") {
		t.Fatalf("no balances for gmx: %+v", c)
	}
	obs := &ObservedBalances{Balances: []ObservedBalance{{Venue: 4, Asset: 0, AmountUnits: "-7"}}}
	if c, _ := offChainCovered(m, pos, obs); !c.OK {
		t.Fatalf("gmx observed: %+v", c)
	}
	if _, ok := offChainCovered(&bundle.ChainMap{}, pos, nil); ok {
		t.Fatal("an opening naming no off-chain venue gets no such check")
	}
}
