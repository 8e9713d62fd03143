package rebalance_test

import (
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/rebalance/internal/refcheck"
	"github.com/solvency-dev/solvency/treasury/riskmodel"
	"github.com/solvency-dev/solvency/treasury/venues"
)

const sampleDir = "../../testdata/treasury"

// sample is the DAO-endowment sample treasury of testdata/treasury.
type sample struct {
	assets  map[string]market.Asset
	book    *venues.Book
	pos     venues.Positions
	liab    map[string]*big.Int
	mkt     *market.Synthetic
	exec    *execute.Simulator
	cfg     *rebalance.Config
	checker *refcheck.Checker
}

func loadSample(t *testing.T) *sample {
	t.Helper()
	p := func(n string) string { return filepath.Join(sampleDir, n) }
	s := &sample{}
	var err error
	if s.assets, err = market.LoadAssets(p("assets.json")); err != nil {
		t.Fatal(err)
	}
	if s.book, err = venues.LoadBook(p("venues.json")); err != nil {
		t.Fatal(err)
	}
	if s.pos, err = venues.LoadPositions(p("scenario/positions.json"), s.assets, s.book); err != nil {
		t.Fatal(err)
	}
	if err := s.pos.Validate(s.book); err != nil {
		t.Fatal(err)
	}
	if s.liab, err = venues.LoadAmounts(p("scenario/liabilities.json"), s.assets); err != nil {
		t.Fatal(err)
	}
	mc, err := market.LoadSynthConfig(p("market.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.mkt, err = market.NewSynthetic(mc); err != nil {
		t.Fatal(err)
	}
	ec, err := execute.LoadConfig(p("executor.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.exec, err = execute.NewSimulator(ec, s.assets); err != nil {
		t.Fatal(err)
	}
	if s.cfg, err = rebalance.LoadConfig(p("scenario/rebalance.json")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p("scenario/refpolicy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pol refcheck.Policy
	if err := json.Unmarshal(raw, &pol); err != nil {
		t.Fatal(err)
	}
	// The policy's VaR factor: the Cholesky factor of the daily covariance governance adopted
	// (the market's configured vols and correlations), in integers at the circuit's scale 10^6.
	idx := map[string]int{}
	for i, a := range mc.Assets {
		idx[a.Symbol] = i
	}
	n := len(pol.VaR.Assets)
	cov := mat.NewSymDense(n, nil)
	for i, ai := range pol.VaR.Assets {
		for j, aj := range pol.VaR.Assets[:i+1] {
			x, y := idx[ai], idx[aj]
			cov.SetSym(i, j, mc.Correlation[x][y]*mc.Assets[x].DailyVol*mc.Assets[y].DailyVol)
		}
	}
	f, err := riskmodel.ScaledCholesky(cov, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	pol.VaR.Factor = f
	s.checker = &refcheck.Checker{Policy: pol, Book: s.book.Clone(), Assets: s.assets}
	return s
}

func (s *sample) portfolio(t *testing.T, step int) rebalance.Portfolio {
	t.Helper()
	snap, err := s.mkt.At(step, uint64(step))
	if err != nil {
		t.Fatal(err)
	}
	return rebalance.Portfolio{Positions: s.pos.Clone(), Prices: snap, Liabilities: s.liab}
}

func (s *sample) rebalancer(t *testing.T, c rebalance.Checker) *rebalance.Rebalancer {
	t.Helper()
	if c == nil {
		c = s.checker
	}
	r, err := rebalance.New(*s.cfg, s.assets, s.exec, c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func logReport(t *testing.T, name string, r *rebalance.Report) {
	t.Helper()
	for _, l := range r.Limits {
		h, _ := l.HeadroomBps()
		t.Logf("%s %-20s pass=%-5v value=%-22s bound=%-28s headroom=%d bps", name, l.ID, l.Pass, l.Value, l.Bound, h)
	}
}

func logPlan(t *testing.T, p *rebalance.Plan) {
	t.Helper()
	for _, r := range p.Reasons {
		t.Logf("trigger: %s", r)
	}
	for _, s := range p.Steps {
		t.Logf("step: %s", s)
	}
	for _, f := range p.Fills {
		t.Logf("fill %-8s %s: in %v out %v tranches %d cost $%s %s", f.Status, f.Trade, f.In, f.Out, len(f.Tranches), market.FormatUSD(f.CostUSD), f.Note)
	}
	if len(p.Binding) > 0 {
		t.Logf("binding: %v", p.Err())
	}
}
