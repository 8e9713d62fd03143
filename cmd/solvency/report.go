package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/web/report"
	"github.com/solvency-dev/solvency/web/serve"
)

const reportLong = `report writes one self-contained HTML page (charts included, no network needed) over the
cycles recorded in an engine's state directory (the demo's by default): per cycle the allocation
by asset, venue group and bucket; every limit's headroom against its bound over time; VaR and the
worst stress surplus; trades and the rebalancer's reasons; proving time and publish gas; each
bundle's digest and the publishing transaction. 'solvency serve' shows the same page at /report.

The engine's state allows one process at a time: run report between cycles, not during one.`

const reportExample = `  solvency report                          # the demo's state, writes report.html
  solvency report --state st --out st/report.html`

// newReportCmd is `solvency report`.
func newReportCmd() *cobra.Command {
	o := &reportOptions{state: "solvency-demo", out: "report.html"}
	cmd := &cobra.Command{
		Use:     "report [--state DIR] [--out FILE]",
		Short:   "Write the operators' cycle report: one self-contained HTML file",
		Long:    reportLong,
		Example: reportExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().StringVar(&o.state, "state", o.state, "the engine's state directory, or the demo's directory")
	cmd.Flags().StringVar(&o.out, "out", o.out, "where to write the HTML report")
	return cmd
}

// reportOptions are `solvency report`'s flags.
type reportOptions struct {
	state string // the engine's state directory, or the demo's
	out   string // the HTML file written
}

// runReport is `solvency report`: render the state's report into one file.
func runReport(w io.Writer, o *reportOptions) error {
	st, err := serve.ResolveState(o.state)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	b, err := reportFor(st)()
	if err != nil {
		return exitError(exitBadInput, err)
	}
	if err := atomicfile.WriteFile(o.out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s (%d bytes)\n", o.out, len(b))
	return nil
}

// reportFor renders the report of the engine state directory st, afresh on each call.
func reportFor(st string) func() ([]byte, error) {
	return func() ([]byte, error) {
		d, err := report.Load(st)
		if err != nil {
			return nil, err
		}
		return report.Render(d)
	}
}
