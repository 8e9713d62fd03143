package portfolio

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/treasury/policy"
)

// TreasuryFiles names the files a treasury is read from. Assets is optional: the policy carries
// the asset table, and a separate table file, when given, must be the same table.
type TreasuryFiles struct {
	Policy, Positions, Prices, Assets string
}

// Treasury is one treasury's inputs, read and checked against each other: what `risk` evaluates
// and `prove` proves.
type Treasury struct {
	Policy    *policy.File
	Canonical *solvency.Policy
	Table     *assets.Table
	Positions []solvency.Position
	// Options and pool shares (with their ids), converted conservatively (docs/greeks.md).
	Derivatives *Derivatives
	Prices      []Price     // normalised, in asset-table order
	feeds       *PricesFile // the prices file as read, for the statement's raw feed answers
}

// LoadTreasury reads the policy, positions and prices strictly. With prof set it also checks them
// against that circuit profile's shape, so that a mismatch is reported before any proving work.
func LoadTreasury(f TreasuryFiles, prof *profile.Profile) (*Treasury, error) {
	if f.Policy == "" || f.Positions == "" || f.Prices == "" {
		return nil, errors.New("a treasury needs a policy, a positions and a prices file")
	}
	pf, err := policy.Load(f.Policy)
	if err != nil {
		return nil, err
	}
	t := &Treasury{Policy: pf, Table: pf.Table()}
	if err := t.sameTable(f); err != nil {
		return nil, err
	}
	if t.Canonical, err = pf.Canonical(); err != nil {
		return nil, err
	}
	if prof != nil {
		if err := t.checkShape(f.Policy, *prof); err != nil {
			return nil, err
		}
	}
	if t.Positions, t.Derivatives, err = LoadHoldings(f.Positions, pf); err != nil {
		return nil, err
	}
	if prof != nil && len(t.Positions) > prof.Positions {
		return nil, fmt.Errorf("%s has %d positions; profile %s has %d position slots", f.Positions, len(t.Positions), prof.Name, prof.Positions)
	}
	if prof != nil && (len(t.Derivatives.Options) > prof.Options || len(t.Derivatives.Pools) > prof.Pools) {
		return nil, fmt.Errorf("%s has %d options and %d pool shares; profile %s has %d option and %d pool slots",
			f.Positions, len(t.Derivatives.Options), len(t.Derivatives.Pools), prof.Name, prof.Options, prof.Pools)
	}
	if t.feeds, err = ReadPricesFile(f.Prices); err != nil {
		return nil, err
	}
	if t.Prices, err = t.feeds.Convert(f.Prices, t.Table); err != nil {
		return nil, err
	}
	return t, nil
}

// sameTable refuses a separate asset table file that is not the policy's (one table everywhere).
func (t *Treasury) sameTable(f TreasuryFiles) error {
	if f.Assets == "" {
		return nil
	}
	other, err := assets.Load(f.Assets)
	if err != nil {
		return err
	}
	h := poseidon.NewHasher()
	if other.Hash(h) != t.Table.Hash(h) {
		return fmt.Errorf("%s differs from the asset table of %s (one asset table everywhere; the policy's table is used, so --assets can be left out)", f.Assets, f.Policy)
	}
	return nil
}

func (t *Treasury) checkShape(policyFile string, prof profile.Profile) error {
	want := solvency.Shape{Assets: prof.Assets, Positions: prof.Positions, Venues: prof.Venues, Groups: prof.VenueGroups,
		Tiers: prof.LiquidityTiers, Scenarios: prof.Scenarios, Buckets: prof.Buckets}
	if got := t.Canonical.Shape(prof.Positions); got != want {
		return fmt.Errorf("%s has shape %+v; profile %s's circuit needs %+v (set the policy's \"slots\")", policyFile, got, prof.Name, want)
	}
	return nil
}

// StatementPrices are the statement's prices in slot order, each with its feed's raw answer,
// decimals and round.
func (t *Treasury) StatementPrices() []bundle.Price {
	out := make([]bundle.Price, t.Table.Len())
	for _, e := range t.feeds.Prices {
		a, _ := t.Table.Index(e.Asset) // Convert checked every entry
		out[a] = bundle.Price{Symbol: e.Asset, Price: t.Prices[a].USD8, Answer: e.Answer, FeedDecimals: e.Decimals,
			Round: t.Prices[a].RoundID.String(), UpdatedAt: e.UpdatedAt}
	}
	return out
}

// TwinInputs are the native twin's inputs for the given per-asset liability totals.
func (t *Treasury) TwinInputs(liabilityTotals []*big.Int) *solvency.Inputs {
	in := &solvency.Inputs{Table: t.Table, Policy: t.Canonical, Positions: t.Positions, Prices: USD8(t.Prices), Liabilities: liabilityTotals}
	if t.Derivatives != nil {
		in.Options, in.Pools = t.Derivatives.Options, t.Derivatives.Pools
	}
	return in
}

// LiabilityTotalsFromStore opens a liabilities build and returns its final running sums (the
// opening of accFinal), checking that it uses the given asset table and that the sums open the
// published accFinal (otherwise a report would be about other liabilities).
func LiabilityTotalsFromStore(dir string, table *assets.Table) ([]*big.Int, error) {
	st, err := liabilities.Open(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	h := poseidon.NewHasher()
	pub := st.Public()
	if pub.Table().Hash(h) != table.Hash(h) {
		return nil, fmt.Errorf("%s uses another asset table than the policy", dir)
	}
	last, err := st.Batch(pub.Batches - 1)
	if err != nil {
		return nil, err
	}
	acc, err := solvency.AccCommit(h, pub.Epoch, last.AfterSums, last.AfterSalt)
	if err != nil {
		return nil, err
	}
	if acc != pub.AccFinal.Fr() {
		return nil, fmt.Errorf("%s: the private store's final running sums do not open acc_final", dir)
	}
	return last.AfterSums, nil
}
