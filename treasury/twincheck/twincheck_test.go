package twincheck

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/sample"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// sampleChecker opens the embedded sample treasury's policy, book and positions.
func sampleChecker(t *testing.T) (*Checker, venues.Positions, market.Snapshot) {
	t.Helper()
	dir := t.TempDir()
	if _, err := sample.WriteTo(dir); err != nil {
		t.Fatal(err)
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	pf, err := policy.Load(p("policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	book, err := venues.LoadBook(p("venues.json"))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := New(pf, book)
	if err != nil {
		t.Fatal(err)
	}
	as := map[string]market.Asset{}
	for _, a := range pf.Table().Assets {
		as[a.Symbol] = market.Asset{Symbol: a.Symbol, Decimals: a.Decimals}
	}
	pos, _, err := venues.LoadHoldings(p("positions.json"), as, book)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := market.LoadSynthConfig(p("market.json"))
	if err != nil {
		t.Fatal(err)
	}
	mkt, err := market.NewSynthetic(mc)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := market.SyntheticSource{Market: mkt}.Snapshot(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return tc, pos, snap
}

// TestConvertSubjectsFromKindAndSubject checks that the rebalancer sees each cap's and in-kind
// limit's subject by name (group caps by the policy group the book's venues carry), and no
// subject for other kinds.
func TestConvertSubjectsFromKindAndSubject(t *testing.T) {
	tc, pos, snap := sampleChecker(t)
	rep, err := tc.Check(rebalance.Portfolio{Positions: pos, Prices: snap})
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]bool{}
	for _, g := range tc.Policy.Groups {
		groups[g.Name] = true
	}
	seen := map[string]int{}
	for _, l := range rep.Limits {
		seen[l.Kind]++
		switch l.Kind {
		case rebalance.KindGroupCap:
			if !groups[l.Subject] {
				t.Errorf("%s: subject %q is not a policy group", l.ID, l.Subject)
			}
		case rebalance.KindAssetCap, rebalance.KindInKind:
			if _, ok := tc.Table.Index(l.Subject); !ok || l.ID[len(l.ID)-len(l.Subject):] != l.Subject {
				t.Errorf("%s: subject %q is not the limit's asset", l.ID, l.Subject)
			}
		default:
			if l.Subject != "" {
				t.Errorf("%s (%s): subject %q, want none", l.ID, l.Kind, l.Subject)
			}
		}
	}
	if seen[rebalance.KindGroupCap] == 0 || seen[rebalance.KindAssetCap] == 0 {
		t.Fatalf("the sample policy should have group and asset caps: %v", seen)
	}
}

// TestLabelNamesPolicyEntries checks the labels people read: indexes replaced by the policy's
// names, other ids as the twin wrote them, an index the policy lacks left alone.
func TestLabelNamesPolicyEntries(t *testing.T) {
	tc, _, _ := sampleChecker(t)
	pf := tc.Policy
	for _, c := range []struct {
		l    solvency.Limit
		want string
	}{
		{solvency.Limit{ID: "cap/group/1", Kind: solvency.KindGroupCap, Subject: "1"}, "cap/group/" + pf.Groups[1].Name},
		{solvency.Limit{ID: "target/1/low", Kind: solvency.KindTarget, Subject: "1"}, "target/" + pf.Targets[1].Name + "/low"},
		{solvency.Limit{ID: "target/0/high", Kind: solvency.KindTarget, Subject: "0"}, "target/" + pf.Targets[0].Name + "/high"},
		{solvency.Limit{ID: "stress/3", Kind: solvency.KindStress, Subject: "3"}, "stress/" + pf.Scenarios[3].Name},
		{solvency.Limit{ID: "cap/asset/ETH", Kind: solvency.KindAssetCap, Subject: "ETH"}, "cap/asset/ETH"},
		{solvency.Limit{ID: "collateral", Kind: solvency.KindCollateral}, "collateral"},
		{solvency.Limit{ID: "stress/99", Kind: solvency.KindStress, Subject: "99"}, "stress/99"},
	} {
		if got := Label(pf, c.l); got != c.want {
			t.Errorf("Label(%s) = %q, want %q", c.l.ID, got, c.want)
		}
	}
}
