package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/logger"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/solvency"
)

// newCircuitsCmd is the `circuits` command group: inspect the circuits without keys.
func newCircuitsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "circuits",
		Short: "Inspect the circuits: constraint counts and shapes",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCircuitsInfoCmd())
	return cmd
}

// circuitsInfoOptions are the flags of `solvency circuits info`.
type circuitsInfoOptions struct {
	assets     int
	batch      int
	circuit    string
	noMarginal bool
	json       bool
	// The solvency circuit's other dimensions.
	positions, venues, groups, tiers, scenarios, buckets, options, pools int
}

func newCircuitsInfoCmd() *cobra.Command {
	o := &circuitsInfoOptions{}
	cmd := &cobra.Command{
		Use:   "info --assets N --batch B",
		Short: "Compile the circuits and print their constraint counts",
		Long: `info compiles the circuits for A assets and batches of B accounts (B a power of 8, at
least 8) and prints each one's R1CS constraint count. For the batch circuit it also prints the cost
per account: total/B, and the marginal cost (total(B2) - total(B1)) / (B2 - B1) between B and its
neighbouring shape (B/8, or 64 when B = 8), which leaves out the per-batch fixed costs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// gnark's compile log goes to stdout, which must carry only the report (--json
			// prints one document). This process is the CLI, so silencing it is ours to do.
			logger.Disable()
			return runCircuitsInfo(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.assets, "assets", 8, fmt.Sprintf("number of assets A (1..%d)", assets.MaxAssets))
	f.IntVar(&o.batch, "batch", 512, "accounts per batch B (a power of 8: 8, 64, 512, ...)")
	f.StringVar(&o.circuit, "circuit", "all", "which circuit to report: "+strings.Join(append(circuitNames(), "all"), "|"))
	f.BoolVar(&o.noMarginal, "no-marginal", false, "skip the second compilation that measures the marginal per-account cost")
	f.BoolVar(&o.json, "json", false, "print the result as JSON on stdout")
	t := solvency.TargetShape()
	f.IntVar(&o.positions, "positions", t.Positions, "solvency circuit: position slots P")
	f.IntVar(&o.venues, "venues", t.Venues, "solvency circuit: venues V")
	f.IntVar(&o.groups, "groups", t.Groups, "solvency circuit: venue groups G")
	f.IntVar(&o.tiers, "tiers", t.Tiers, "solvency circuit: liquidity tiers T")
	f.IntVar(&o.scenarios, "scenarios", t.Scenarios, "solvency circuit: stress scenarios S")
	f.IntVar(&o.buckets, "buckets", t.Buckets, "solvency circuit: target-weight buckets K")
	f.IntVar(&o.options, "options", t.Options, "solvency circuit: option slots")
	f.IntVar(&o.pools, "pools", t.Pools, "solvency circuit: pool-share slots")
	return cmd
}

// circuitReport is one circuit's entry in the output; the JSON field names are stable.
type circuitReport struct {
	Circuit      string  `json:"circuit"`
	Shape        string  `json:"shape"`
	Assets       int     `json:"assets"`
	Batch        int     `json:"batch,omitempty"`  // accounts per batch (batch circuit)
	Height       int     `json:"height,omitempty"` // batch subtree height h, B = 8^h
	Constraints  int     `json:"constraints"`
	PublicInputs int     `json:"public_inputs"`
	Commitments  int     `json:"commitments"`                    // BSB22 commitments (std/rangecheck and kin)
	PerAccount   float64 `json:"per_account,omitempty"`          // constraints / B
	Marginal     float64 `json:"marginal_per_account,omitempty"` // (total(B2) - total(B1)) / (B2 - B1)
	MarginalFrom int     `json:"marginal_from,omitempty"`        // the other B of the marginal pair
	Seconds      float64 `json:"compile_seconds"`
}

// circuitReporter reports one circuit. To add a circuit to `circuits info`, append an entry to
// circuitReporters: a name and a function that compiles it for the options' shape.
type circuitReporter struct {
	name   string
	report func(o *circuitsInfoOptions, progress io.Writer) (circuitReport, error)
}

func circuitReporters() []circuitReporter {
	return []circuitReporter{
		{name: "batch", report: reportBatch},
		{name: "solvency", report: reportSolvency},
	}
}

func circuitNames() []string {
	var out []string
	for _, r := range circuitReporters() {
		out = append(out, r.name)
	}
	return out
}

// circuitsInfoResult is the --json document.
type circuitsInfoResult struct {
	Circuits []circuitReport `json:"circuits"`
}

func runCircuitsInfo(o *circuitsInfoOptions, stdout, stderr io.Writer) error {
	if o.assets < 1 || o.assets > assets.MaxAssets {
		return exitError(exitBadInput, fmt.Errorf("--assets %d: want 1..%d", o.assets, assets.MaxAssets))
	}
	var selected []circuitReporter
	for _, r := range circuitReporters() {
		if o.circuit == "all" || o.circuit == r.name {
			selected = append(selected, r)
		}
	}
	if len(selected) == 0 {
		return exitError(exitBadInput, fmt.Errorf("--circuit %q: want one of %s", o.circuit, strings.Join(append(circuitNames(), "all"), ", ")))
	}
	var res circuitsInfoResult
	for _, r := range selected {
		rep, err := r.report(o, stderr)
		if err != nil {
			return err
		}
		res.Circuits = append(res.Circuits, rep)
	}
	if o.json {
		if err := writeJSON(stdout, res); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		return nil
	}
	for _, r := range res.Circuits {
		printCircuitReport(stdout, r)
	}
	return nil
}

func printCircuitReport(w io.Writer, r circuitReport) {
	fmt.Fprintf(w, "%s circuit (%s)\n", r.Circuit, r.Shape)
	fmt.Fprintf(w, "  constraints    %d R1CS (compiled in %.1fs)\n", r.Constraints, r.Seconds)
	if r.Batch > 0 {
		fmt.Fprintf(w, "  per account    %.1f (total / %d accounts)\n", r.PerAccount, r.Batch)
	}
	if r.MarginalFrom > 0 {
		fmt.Fprintf(w, "  marginal       %.1f per account (between B=%d and B=%d)\n", r.Marginal, min(r.MarginalFrom, r.Batch), max(r.MarginalFrom, r.Batch))
	}
	fmt.Fprintf(w, "  public inputs  %d\n", r.PublicInputs)
	note := ""
	if r.Commitments > 0 {
		note = " (off-chain verification only: a commitment costs about 120k gas more on chain)"
	}
	fmt.Fprintf(w, "  commitments    %d%s\n", r.Commitments, note)
}

// batchShape turns --batch and --assets into a batch shape, refusing a B that is not 8^h.
func batchShape(accounts, nAssets int) (batch.Shape, error) {
	h, b := 0, 1
	for b < accounts {
		b *= 8
		h++
	}
	if b != accounts || h < 1 {
		return batch.Shape{}, fmt.Errorf("--batch %d: want a power of 8, at least 8 (8, 64, 512, ...)", accounts)
	}
	s := batch.Shape{Height: h, Assets: nAssets}
	if err := s.Validate(); err != nil {
		return batch.Shape{}, err
	}
	return s, nil
}

func reportBatch(o *circuitsInfoOptions, progress io.Writer) (circuitReport, error) {
	s, err := batchShape(o.batch, o.assets)
	if err != nil {
		return circuitReport{}, exitError(exitBadInput, err)
	}
	fmt.Fprintf(progress, "compiling the batch circuit (%s)\n", s)
	start := time.Now()
	cs, err := batch.Compile(s)
	if err != nil {
		return circuitReport{}, err
	}
	rep := circuitReport{
		Circuit: "batch", Shape: s.String(), Assets: s.Assets, Batch: s.BatchSize(), Height: s.Height,
		Seconds: time.Since(start).Seconds(),
	}
	fillCounts(&rep, cs)
	rep.PerAccount = float64(rep.Constraints) / float64(rep.Batch)
	if o.noMarginal {
		return rep, nil
	}
	// The neighbouring shape: one level lower, or one higher from h = 1.
	other := batch.Shape{Height: s.Height - 1, Assets: s.Assets}
	if other.Height < 1 {
		other.Height = 2
	}
	fmt.Fprintf(progress, "compiling the batch circuit (%s) for the marginal cost\n", other)
	n2, err := batch.Constraints(other)
	if err != nil {
		return circuitReport{}, err
	}
	rep.Marginal = float64(rep.Constraints-n2) / float64(rep.Batch-other.BatchSize())
	rep.MarginalFrom = other.BatchSize()
	return rep, nil
}

// fillCounts copies the counts every circuit reports from its constraint system.
func fillCounts(rep *circuitReport, cs constraint.ConstraintSystem) {
	rep.Constraints = cs.GetNbConstraints()
	rep.PublicInputs = cs.GetNbPublicVariables() - 1 // less the constant-one wire
	if c := cs.GetCommitments(); c != nil {
		rep.Commitments = len(c.CommitmentIndexes())
	}
}

func reportSolvency(o *circuitsInfoOptions, progress io.Writer) (circuitReport, error) {
	s := solvency.Shape{Assets: o.assets, Positions: o.positions, Venues: o.venues, Groups: o.groups,
		Tiers: o.tiers, Scenarios: o.scenarios, Buckets: o.buckets, Options: o.options, Pools: o.pools}
	if err := s.Validate(); err != nil {
		return circuitReport{}, exitError(exitBadInput, err)
	}
	fmt.Fprintf(progress, "compiling the solvency circuit (%+v)\n", s)
	start := time.Now()
	cs, err := solvency.Compile(s)
	if err != nil {
		return circuitReport{}, err
	}
	rep := circuitReport{
		Circuit: "solvency", Assets: s.Assets, Seconds: time.Since(start).Seconds(),
		Shape: fmt.Sprintf("A=%d P=%d V=%d G=%d T=%d S=%d K=%d O=%d L=%d", s.Assets, s.Positions, s.Venues, s.Groups, s.Tiers, s.Scenarios, s.Buckets, s.Options, s.Pools),
	}
	fillCounts(&rep, cs)
	return rep, nil
}
