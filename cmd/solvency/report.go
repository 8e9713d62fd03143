package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/web/report"
	"github.com/solvency-dev/solvency/web/serve"
)

// newReportCmd is `solvency report`.
func newReportCmd() *cobra.Command {
	state, out := "solvency-demo", "report.html"
	cmd := &cobra.Command{
		Use:   "report [--state DIR] [--out FILE]",
		Short: "Write the operators' cycle report: one self-contained HTML file",
		Long: `report writes one self-contained HTML page (charts included, no network needed) over the
cycles recorded in an engine's state directory (the demo's by default): per cycle the allocation
by asset, venue group and bucket; every limit's headroom against its bound over time; VaR and the
worst stress surplus; trades and the rebalancer's reasons; proving time and publish gas; each
bundle's digest and the publishing transaction. 'solvency serve' shows the same page at /report.

The engine's state allows one process at a time: run report between cycles, not during one.`,
		Example: `  solvency report                          # the demo's state, writes report.html
  solvency report --state st --out st/report.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd.OutOrStdout(), state, out)
		},
	}
	cmd.Flags().StringVar(&state, "state", state, "the engine's state directory, or the demo's directory")
	cmd.Flags().StringVar(&out, "out", out, "where to write the HTML report")
	return cmd
}

func runReport(w io.Writer, stateDir, out string) error {
	st, err := serve.ResolveState(stateDir)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	b, err := reportFor(st)()
	if err != nil {
		return exitError(exitBadInput, err)
	}
	if err := atomicfile.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s (%d bytes)\n", out, len(b))
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
