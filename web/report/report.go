// Package report renders the operators' cycle report: one self-contained HTML file over the
// cycles an engine's state directory records (allocation by asset, venue group and bucket; every
// limit's headroom over time; VaR and the worst stress surplus; trades and their reasons; proving
// time and gas; links to each bundle and transaction). Charts are drawn by Apache ECharts,
// pinned in web/browsertest/package-lock.json and inlined from the copy in assets/ (a test keeps
// the copy equal to the pinned package).
package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/state"
)

//go:embed assets/echarts.min.js
var echartsJS string

// EChartsJS is the inlined charting library.
func EChartsJS() string { return echartsJS }

// Cycle is one cycle's row of the report.
type Cycle struct {
	Cycle       uint64             `json:"cycle"`
	Stage       string             `json:"stage"`
	Time        string             `json:"time"`
	Assets      map[string]float64 `json:"assets"`  // gross share of net reserves, %
	Groups      map[string]float64 `json:"groups"`  // venue group share, %
	Buckets     map[string]float64 `json:"buckets"` // bucket net share, %
	Headroom    map[string]float64 `json:"headroom"`
	Failing     []string           `json:"failing,omitempty"`
	VaR         *float64           `json:"var"`
	WorstStress *float64           `json:"worstStress"`
	Trades      []Trade            `json:"trades"`
	Reasons     []string           `json:"reasons,omitempty"`
	// Greeks are the net Greeks per underlying the cycle's plan left (the engine's model, not
	// the proof's), and the Greek limits no allowed trade restored.
	Greeks       []string `json:"greeks,omitempty"`
	ProveSeconds float64  `json:"proveSeconds"`
	GasUsed      uint64   `json:"gasUsed"`
	Tx           string   `json:"tx,omitempty"`
	Bundle       string   `json:"bundle,omitempty"` // link to the served bundle
	BundleDigest string   `json:"bundleDigest,omitempty"`
	Block        uint64   `json:"block,omitempty"`
}

// Trade is one executed trade, for people.
type Trade struct {
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

// Data is everything the report shows.
type Data struct {
	State     string  `json:"state"`
	Generated string  `json:"generated"`
	Cycles    []Cycle `json:"cycles"`
}

// Load reads the cycles recorded in the engine state directory st. The store allows one process
// at a time: while the engine runs, Load fails after about a second.
func Load(st string) (*Data, error) {
	dbDir := filepath.Join(st, "state")
	if _, err := os.Stat(filepath.Join(dbDir, state.FileName)); err != nil {
		return nil, fmt.Errorf("no engine state in %s: %w", st, err)
	}
	s, err := state.Open(dbDir)
	if err != nil {
		return nil, fmt.Errorf("open the engine state (is a cycle running?): %w", err)
	}
	defer s.Close()
	recs, err := s.Records()
	if err != nil {
		return nil, err
	}
	d := &Data{State: st}
	for _, r := range recs {
		c, err := cycleOf(r)
		if err != nil {
			return nil, fmt.Errorf("cycle %d: %w", r.Cycle, err)
		}
		d.Cycles = append(d.Cycles, *c)
	}
	sort.Slice(d.Cycles, func(i, j int) bool { return d.Cycles[i].Cycle < d.Cycles[j].Cycle })
	return d, nil
}

func cycleOf(r *state.CycleRecord) (*Cycle, error) {
	c := &Cycle{Cycle: r.Cycle, Stage: r.Stage.String(), Assets: map[string]float64{}, Groups: map[string]float64{},
		Buckets: map[string]float64{}, Headroom: map[string]float64{}, GasUsed: r.GasUsed, Block: r.PublishBlock}
	if r.Prices.Time > 0 {
		c.Time = time.Unix(r.Prices.Time, 0).UTC().Format(time.RFC3339)
	}
	if r.PublishTx != "" {
		c.Tx = r.PublishTx
	}
	if r.ProveSeconds != "" {
		if v, err := strconv.ParseFloat(r.ProveSeconds, 64); err == nil {
			c.ProveSeconds = v
		}
	}
	// The limits as proven: after the rebalance when one ran, else as assessed.
	var risk *rebalance.Report
	if len(r.Risk) > 0 {
		risk = new(rebalance.Report)
		if err := json.Unmarshal(r.Risk, risk); err != nil {
			return nil, fmt.Errorf("risk report: %w", err)
		}
	}
	if len(r.Plan) > 0 {
		var plan rebalance.Plan
		if err := json.Unmarshal(r.Plan, &plan); err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
		c.Reasons = plan.Reasons
		if plan.GreeksAfter != nil {
			c.Greeks = plan.GreeksAfter.Lines()
			for _, b := range plan.GreekBinding {
				c.Greeks = append(c.Greeks, "binds, no allowed trade restores it: "+b)
			}
		}
		if plan.After != nil {
			risk = plan.After
		}
	}
	lines, err := riskFigureLines(r.Greeks)
	if err != nil {
		return nil, err
	}
	c.Greeks = append(c.Greeks, lines...)
	if risk != nil {
		limits(c, risk)
	}
	for _, t := range r.Trades {
		c.Trades = append(c.Trades, tradeOf(t))
	}
	if r.BundlePath != "" {
		if _, raw, err := bundle.ReadManifestRaw(r.BundlePath); err == nil {
			c.BundleDigest = bundle.SHA256Hex(raw)
			c.Bundle = "/bundles/" + c.BundleDigest + "/" + bundle.ManifestFile
		}
	}
	return c, nil
}

func tradeOf(t execute.Trade) Trade {
	return Trade{Text: t.String(), Reason: t.Reason}
}

// number reads the leading decimal of a limit's value for people ("31.20%", "surplus -4.10",
// "VaR 12.00").
func number(s string) (float64, bool) {
	f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(f[len(f)-1], "%"), 64)
	return v, err == nil
}

func limits(c *Cycle, rep *rebalance.Report) {
	for _, l := range rep.Limits {
		if !l.Pass {
			c.Failing = append(c.Failing, l.ID)
		}
		if l.Headroom != nil && l.Scale != nil && l.Scale.Sign() > 0 {
			q, _ := new(big.Rat).SetFrac(new(big.Int).Mul(l.Headroom, big.NewInt(100)), l.Scale).Float64()
			c.Headroom[l.ID] = q
		}
		v, ok := number(l.Value)
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(l.ID, "cap/asset/"):
			c.Assets[l.Subject] = v
		case strings.HasPrefix(l.ID, "cap/group/"):
			c.Groups["group "+l.Subject] = v
		case strings.HasPrefix(l.ID, "target/") && strings.HasSuffix(l.ID, "/low"):
			// target/K/low: the checker leaves Subject empty for buckets, the ID names K.
			c.Buckets["bucket "+strings.TrimSuffix(strings.TrimPrefix(l.ID, "target/"), "/low")] = v
		case l.ID == "var":
			c.VaR = &v
		case strings.HasPrefix(l.ID, "stress/"):
			if c.WorstStress == nil || v < *c.WorstStress {
				w := v
				c.WorstStress = &w
			}
		}
	}
}

// Render writes the report as one self-contained HTML page.
func Render(d *Data) ([]byte, error) {
	if d.Generated == "" {
		d.Generated = time.Now().UTC().Format(time.RFC3339)
	}
	data, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = page.Execute(&buf, map[string]any{
		"Data":    template.JS(data),
		"ECharts": template.JS(echartsJS),
		"D":       d,
	})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

//go:embed report.html.tmpl
var pageSrc string

var page = template.Must(template.New("report").Parse(pageSrc))

// riskFigures is the part of the engine's recorded Greek summary (treasury/engine.RiskFigures)
// the report shows: the delta-gamma VaR and the stress grid's worst scenario. Decoded here, by
// its JSON keys, so the report does not import the engine.
type riskFigures struct {
	Risk *struct {
		CovarianceSource    string   `json:"covariance_source"`
		Confidence          float64  `json:"confidence"`
		HorizonDays         float64  `json:"horizon_days"`
		DeltaGammaNormalVaR string   `json:"delta_gamma_normal_var"`
		CornishFisherVaR    string   `json:"cornish_fisher_var"`
		StressAssets        []string `json:"stress_assets"`
		WorstStressPnL      string   `json:"worst_stress_pnl"`
		WorstStressScenario string   `json:"worst_stress_scenario"`
	} `json:"risk"`
}

// riskFigureLines describes a cycle's model risk figures for the report (none when the cycle
// recorded none).
func riskFigureLines(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var g riskFigures
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("greeks: %w", err)
	}
	r := g.Risk
	if r == nil {
		return nil, nil
	}
	var out []string
	if r.CornishFisherVaR != "" {
		out = append(out, fmt.Sprintf("delta-gamma VaR $%s (Cornish-Fisher), $%s (normal) at %.2f%% over %g day, %s covariance",
			r.CornishFisherVaR, r.DeltaGammaNormalVaR, r.Confidence*100, r.HorizonDays, r.CovarianceSource))
	}
	if r.WorstStressScenario != "" {
		out = append(out, fmt.Sprintf("worst full revaluation $%s at %s (%s)", r.WorstStressPnL, r.WorstStressScenario, strings.Join(r.StressAssets, ", ")))
	}
	return out, nil
}
