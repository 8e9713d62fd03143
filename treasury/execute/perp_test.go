package execute

import (
	"strings"
	"testing"
	"time"

	"github.com/solvency-dev/solvency/treasury/venues"
)

func perpBook(t *testing.T, fee int64, depthUSD int64) *venues.Book {
	t.Helper()
	b, err := venues.NewBook([]venues.Venue{
		{ID: "safe", Kind: venues.KindWallet, Group: "safe"},
		{ID: "perp", Kind: venues.KindPerp, Group: "perp", Perp: &venues.Perp{Underlying: "ETH", Margin: "USDC", FeeBps: fee, DepthUSD: e(depthUSD, 8)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A resize changes the short by the amount, in tranches that keep fee plus impact inside the
// slippage budget, and pays its cost from margin; a cover stops at flat; a fee above the budget
// is refused.
func TestPerpResize(t *testing.T) {
	s := testSim(t, 100, true)
	ps := venues.Positions{{Venue: "perp", Asset: "ETH", Amount: e(-100, 18)}, {Venue: "perp", Asset: "USDC", Amount: e(1_000_000, 6)}}
	// Fee 10 bps, depth $10M: a tranche may carry 90 bps of impact, $90k; the cap is $250k.
	book := perpBook(t, 10, 10_000_000)
	got, fills, err := s.Execute(book, ps, testPrices, []Trade{{FromVenue: "perp", FromAsset: "ETH", ToVenue: "perp", ToAsset: "ETH", Amount: e(50, 18), Perp: PerpShort}})
	if err != nil {
		t.Fatal(err)
	}
	f := fills[0]
	// $150k of notional in 2 tranches of $75k: 10 + 75 bps each, $1275 in all.
	if f.Status != Filled || len(f.Tranches) != 2 || f.Tranches[0].SlippageBps != 85 || f.CostUSD.Cmp(e(1275, 8)) != 0 {
		t.Fatalf("fill %+v cost %v", f, f.CostUSD)
	}
	// The short's notional is credited to margin, less the cost.
	if got.Get("perp", "ETH").Cmp(e(-150, 18)) != 0 || got.Get("perp", "USDC").Cmp(e(1_000_000+150_000-1275, 6)) != 0 {
		t.Fatalf("positions after %v", got)
	}
	_, fills, err = s.Execute(book, got, testPrices, []Trade{{FromVenue: "perp", FromAsset: "ETH", ToVenue: "perp", ToAsset: "ETH", Amount: e(500, 18), Perp: PerpCover}})
	if err != nil || fills[0].Status != Partial || fills[0].In.Cmp(e(150, 18)) != 0 {
		t.Fatalf("cover beyond flat: %+v %v", fills, err)
	}
	_, fills, err = s.Execute(perpBook(t, 150, 10_000_000), ps, testPrices, []Trade{{FromVenue: "perp", FromAsset: "ETH", ToVenue: "perp", ToAsset: "ETH", Amount: e(1, 18), Perp: PerpShort}})
	if err != nil || fills[0].Status != Refused || !strings.Contains(fills[0].Note, "slippage budget") {
		t.Fatalf("fee above budget: %+v %v", fills, err)
	}
	if _, _, err := s.Execute(book, ps, testPrices, []Trade{{FromVenue: "perp", FromAsset: "USDC", ToVenue: "perp", ToAsset: "USDC", Amount: e(1, 6), Perp: PerpShort}}); err == nil {
		t.Fatal("a resize in the margin asset was accepted")
	}
}

// A hedge resize is not a Safe call: the batch leaves it out of its transactions and names it
// in its description, to make at the venue.
func TestSafeBatchListsPerpResizeAsManual(t *testing.T) {
	s := testSim(t, 100, true)
	book := perpBook(t, 10, 10_000_000)
	ps := venues.Positions{{Venue: "perp", Asset: "ETH", Amount: e(-100, 18)}, {Venue: "perp", Asset: "USDC", Amount: e(1_000_000, 6)}}
	_, fills, err := s.Execute(book.Clone(), ps, testPrices, []Trade{{FromVenue: "perp", FromAsset: "ETH", ToVenue: "perp", ToAsset: "ETH", Amount: e(5, 18), Perp: PerpShort}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := SafeBatch(book, testAddressBook(), fills, "cycle 1", "rebalance.", time.Unix(1_700_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Transactions) != 0 || !strings.Contains(b.Meta.Description, "Not Safe calls, to make at the venue: short 5000000000000000000 units of ETH at perp") {
		t.Fatalf("batch %d transactions, description %q", len(b.Transactions), b.Meta.Description)
	}
}
