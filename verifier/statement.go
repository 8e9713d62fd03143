package verifier

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/circuits/statement"
)

// StatementInputs recomputes the solvency proof's public inputs from a bundle's statement, the
// same packing the registry contract does on chain (S1).
func StatementInputs(st *bundle.Statement, assetCount int) ([]fr.Element, error) {
	if len(st.Prices) != assetCount {
		return nil, fmt.Errorf("the statement has %d prices for %d assets", len(st.Prices), assetCount)
	}
	s := &solvency.Statement{
		PolicyHash: st.PolicyHash.Element, LC: st.LC.Element, RC: st.RC.Element,
		Meta: solvency.Meta{Cycle: st.Cycle, ReservesBlock: st.ReservesBlock, SnapshotEpoch: st.SnapshotEpoch, SnapshotTime: st.SnapshotTime},
	}
	for _, p := range st.Prices {
		s.Prices = append(s.Prices, p.Price)
	}
	// The packing refuses a price past 63 bits and a snapshot time past 40 bits.
	words, err := solvency.PublicInputs(s)
	if err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	out := make([]fr.Element, len(words))
	for i, w := range words {
		if w.Cmp(fr.Modulus()) >= 0 {
			return nil, fmt.Errorf("public input %d is not below the field modulus", i)
		}
		out[i].SetBigInt(w)
	}
	return out, nil
}

// checkPrices checks each statement price against the asset table and its own feed data: slot i
// names the table's symbol i, the round id is a canonical uint80, and the price is the feed's
// answer normalised by its decimals with the rule of docs/design.md (P1), so that a bundle cannot
// show one answer and prove another price. Round and update time are checked on chain.
func checkPrices(st *bundle.Statement, table *assets.Table) error {
	if len(st.Prices) != table.Len() {
		return fmt.Errorf("the statement has %d prices for %d assets", len(st.Prices), table.Len())
	}
	for i, p := range st.Prices {
		if p.Symbol != table.Assets[i].Symbol {
			return fmt.Errorf("price %d is labelled %q; asset slot %d is %s", i, p.Symbol, i, table.Assets[i].Symbol)
		}
		if _, err := bundle.ParseRound(p.Round); err != nil {
			return fmt.Errorf("price of %s: %w", p.Symbol, err)
		}
		ans, ok := new(big.Int).SetString(p.Answer, 10)
		if !ok || ans.Sign() <= 0 || ans.String() != p.Answer {
			return fmt.Errorf("price of %s: answer %q is not a canonical positive integer feed answer", p.Symbol, p.Answer)
		}
		price, err := statement.NormalisePrice(ans, p.FeedDecimals)
		if err != nil {
			return fmt.Errorf("price of %s: answer %s with %d decimals: %w", p.Symbol, p.Answer, p.FeedDecimals, err)
		}
		if price != p.Price {
			return fmt.Errorf("price of %s: answer %s with %d decimals normalises to %d, the statement says %d", p.Symbol, p.Answer, p.FeedDecimals, price, p.Price)
		}
	}
	return nil
}
