package main

import (
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/treasury/portfolio"
)

var errNoLiabilities = errors.New("give --liabilities DIR (a liabilities build) or --liability-totals FILE")

// riskOptions are the flags of `solvency risk`.
type riskOptions struct {
	assets, positions, prices, policy string
	liabilities, liabilityTotals      string
	volSurface                        string
	json                              bool
}

// newRiskCmd is `solvency risk`: the native twin's report of every limit.
func newRiskCmd() *cobra.Command {
	o := &riskOptions{}
	cmd := &cobra.Command{
		Use:   "risk --positions F --prices F --policy F (--liabilities DIR | --liability-totals F)",
		Short: "Report every risk limit of the policy: value, bound, pass or fail",
		Long: `risk evaluates the policy's limits on the treasury's positions at the given prices, with
the solvency circuit's native twin: exactly the integer computation the proof makes. It prints
each limit with its value, its bound and whether it passes, and exits 1 if any fails (a proof
would not verify). Liabilities come from a liabilities build directory (its final running sums)
or, before one exists, from a JSON object of per-asset totals (symbol -> decimal).

With --vol-surface FILE (a volatility surface, docs/pricing.md) it also prints the engine's
model Greeks of the options and pool shares (Black-76), their delta-gamma VaR under the policy's
covariance (Cornish-Fisher and the normal approximation) and a full-revaluation stress grid that
moves price and implied volatility together (docs/hedging.md). These are model figures beside
the proof's conservative values; they do not change the result or the exit code.`,
		Example: `  solvency risk --positions testdata/positions.json --prices testdata/prices.json \
      --policy testdata/policy.json --liability-totals testdata/liabilities.json
  solvency risk --positions pos.json --prices prices.json --policy policy.json --liabilities liab --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRisk(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.assets, "assets", "", "asset table file (optional; must equal the policy's table)")
	f.StringVar(&o.positions, "positions", "", "positions file")
	f.StringVar(&o.prices, "prices", "", "prices file (feed answers)")
	f.StringVar(&o.policy, "policy", "", "governance policy file")
	f.StringVar(&o.liabilities, "liabilities", "", "liabilities build directory")
	f.StringVar(&o.liabilityTotals, "liability-totals", "", "per-asset liability totals (JSON symbol -> decimal)")
	f.StringVar(&o.volSurface, "vol-surface", "", "volatility surface file: adds model Greeks, delta-gamma VaR and a stress grid")
	f.BoolVar(&o.json, "json", false, "print the report as JSON on stdout")
	return cmd
}

// loadRiskInputs reads every input file into the twin's inputs.
func loadRiskInputs(o *riskOptions) (*solvency.Inputs, *policy.File, error) {
	in, pf, _, err := loadRiskInputsAt(o)
	return in, pf, err
}

// loadRiskInputsAt is loadRiskInputs with the prices' latest update time (unix seconds).
func loadRiskInputsAt(o *riskOptions) (*solvency.Inputs, *policy.File, uint64, error) {
	if o.positions == "" || o.prices == "" || o.policy == "" {
		return nil, nil, 0, errors.New("--positions, --prices and --policy are required")
	}
	if o.liabilities != "" && o.liabilityTotals != "" {
		return nil, nil, 0, errors.New("give one of --liabilities and --liability-totals")
	}
	tr, err := portfolio.LoadTreasury(portfolio.TreasuryFiles{Policy: o.policy, Positions: o.positions, Prices: o.prices, Assets: o.assets}, nil)
	if err != nil {
		return nil, nil, 0, err
	}
	var totals []*big.Int
	switch {
	case o.liabilities != "":
		totals, err = portfolio.LiabilityTotalsFromStore(o.liabilities, tr.Table)
	case o.liabilityTotals != "":
		totals, err = portfolio.LoadLiabilityTotals(o.liabilityTotals, tr.Table)
	default:
		err = errNoLiabilities
	}
	if err != nil {
		return nil, nil, 0, err
	}
	var at uint64
	for _, p := range tr.Prices {
		at = max(at, p.UpdatedAt)
	}
	return tr.TwinInputs(totals), tr.Policy, at, nil
}

func runRisk(o *riskOptions, out, errw io.Writer) error {
	in, pf, at, err := loadRiskInputsAt(o)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	rep, err := solvency.Evaluate(in)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	model, err := loadModelRisk(o, in, at)
	if err != nil {
		return exitError(exitBadInput, fmt.Errorf("model risk: %w", err))
	}
	if model == nil && (len(in.Options) > 0 || len(in.Pools) > 0) {
		// Today's output stays as it was; the note goes to stderr.
		fmt.Fprintln(errw, "note: model Greeks and the delta-gamma VaR need a volatility surface (--vol-surface FILE)")
	}
	switch {
	case o.json && model != nil:
		doc, err := withModel(rep, model)
		if err != nil {
			return err
		}
		if err := writeJSON(out, doc); err != nil {
			return err
		}
	case o.json:
		if err := writeJSON(out, rep); err != nil {
			return err
		}
	default:
		if err := printRisk(out, pf, rep); err != nil {
			return err
		}
		if model != nil {
			if err := printModelRisk(out, model); err != nil {
				return err
			}
		}
	}
	if !rep.Pass {
		failed := failedLimits(rep)
		return exitError(exitInvalid, fmt.Errorf("%d limit(s) fail: %s", len(failed), strings.Join(failed, ", ")))
	}
	return nil
}

// failedLimits lists the ids of the limits that fail.
func failedLimits(rep *solvency.Report) []string {
	var failed []string
	for _, l := range rep.Limits {
		if !l.Pass {
			failed = append(failed, l.ID)
		}
	}
	return failed
}

// limitName gives group and bucket limits their policy names.
func limitName(pf *policy.File, id string) string {
	var k int
	var edge string
	if n, _ := fmt.Sscanf(id, "cap/group/%d", &k); n == 1 && k < len(pf.Groups) {
		return "cap/group/" + pf.Groups[k].Name
	}
	if n, _ := fmt.Sscanf(id, "stress/%d", &k); n == 1 && k < len(pf.Scenarios) {
		return "stress/" + pf.Scenarios[k].Name
	}
	if i := strings.LastIndexByte(id, '/'); strings.HasPrefix(id, "target/") && i > 7 {
		edge = id[i+1:]
		if n, _ := fmt.Sscanf(id[:i], "target/%d", &k); n == 1 && k < len(pf.Targets) {
			return "target/" + pf.Targets[k].Name + "/" + edge
		}
	}
	return id
}

func printRisk(out io.Writer, pf *policy.File, rep *solvency.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "policy        %s\n", pf.Name)
	fmt.Fprintf(&b, "gross long    %s USD\n", solvency.FormatFine(rep.GrossLong))
	fmt.Fprintf(&b, "gross short   %s USD\n", solvency.FormatFine(rep.GrossShort))
	fmt.Fprintf(&b, "net reserves  %s USD\n", solvency.FormatFine(rep.NetReserves))
	// Options and pool shares at the proof's conservative values (docs/greeks.md), when held.
	if rep.OptionsLong.Sign() != 0 || rep.OptionsShort.Sign() != 0 {
		fmt.Fprintf(&b, "options       %s USD long (intrinsic), %s USD short (intrinsic + charge)\n",
			solvency.FormatFine(rep.OptionsLong), solvency.FormatFine(rep.OptionsShort))
	}
	if rep.PoolShares.Sign() != 0 {
		fmt.Fprintf(&b, "pool shares   %s USD (at the oracle prices)\n", solvency.FormatFine(rep.PoolShares))
	}
	fmt.Fprintf(&b, "haircut res.  %s USD\n", solvency.FormatFine(rep.HaircutReserves))
	fmt.Fprintf(&b, "liabilities   %s USD\n", solvency.FormatFine(rep.Liabilities))
	fmt.Fprintf(&b, "surplus       %s USD\n", solvency.FormatFine(rep.Surplus))
	if rep.VaRValue != nil {
		fmt.Fprintf(&b, "VaR           %s USD\n", solvency.FormatFine(rep.VaRValue))
	}
	if rep.WorstStress != nil {
		fmt.Fprintf(&b, "worst stress  %s USD surplus\n", solvency.FormatFine(rep.WorstStress))
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "limit\tvalue\tbound\tresult")
	for _, l := range rep.Limits {
		// Completeness bounds (totals below 2^170, exposures below 2^71 coarse units) are
		// listed only when they fail: they are far from any real treasury.
		if l.Kind == solvency.KindBound && l.Pass {
			continue
		}
		res := "pass"
		if !l.Pass {
			res = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", limitName(pf, l.ID), l.Value, l.Bound, res)
	}
	tw.Flush()
	if rep.Pass {
		b.WriteString("\nevery limit passes\n")
	}
	_, err := io.WriteString(out, b.String())
	return err
}
