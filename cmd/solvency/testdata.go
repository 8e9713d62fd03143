package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/liabilities"
)

// newTestdataCmd groups the fixture generators.
func newTestdataCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "testdata",
		Short: "Generate deterministic test fixtures",
		Long: `testdata generates fixtures too large to commit, deterministically from a seed: the same
seed and inputs give the same bytes.`,
	}
	cmd.AddCommand(newTestdataAccountsCmd())
	return cmd
}

type testdataAccountsOptions struct {
	users      int
	assetsFile string
	seed       uint64
	out        string
	json       bool
}

func newTestdataAccountsCmd() *cobra.Command {
	var o testdataAccountsOptions
	cmd := &cobra.Command{
		Use:   "accounts --users N --assets FILE --out FILE",
		Short: "Generate a realistic accounts CSV (liabilities snapshot)",
		Long: `accounts writes an accounts CSV (header account_id,<SYMBOL>,...) for the asset table:
ids like user-0000123 mixed with uuid-like ones; in each asset most users hold nothing, holders'
balances are log-normal with a heavy tail and a few Pareto whales; some amounts carry more
decimals than the asset's circuit precision, so rounding up is exercised.

The output is a pure function of --users, --assets and --seed (a seeded PCG), and is written
atomically: the file is complete or absent. Use --out - for stdout.`,
		Example: `  solvency testdata accounts --users 1000 --assets testdata/assets.json --seed 1 --out accounts.csv
  solvency testdata accounts --users 1000000 --assets testdata/assets.json --seed 42 --out /tmp/1m.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTestdataAccounts(cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.users, "users", 0, "number of accounts (required)")
	f.StringVar(&o.assetsFile, "assets", "", "asset table JSON (required)")
	f.Uint64Var(&o.seed, "seed", 1, "random seed")
	f.StringVar(&o.out, "out", "", "output CSV file, or - for stdout (required)")
	jsonFlag(cmd, &o.json)
	for _, name := range []string{"users", "assets", "out"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func runTestdataAccounts(stdout io.Writer, o testdataAccountsOptions) error {
	if o.users < 1 || o.users > liabilities.MaxAccounts {
		return exitError(exitBadInput, fmt.Errorf("--users %d: want 1 to %d", o.users, liabilities.MaxAccounts))
	}
	table, err := assets.Load(o.assetsFile)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	gen := func(w io.Writer) error {
		return liabilities.Generate(w, table, liabilities.GenerateOptions{Users: o.users, Seed: o.seed})
	}
	if o.out == "-" {
		if o.json {
			return exitError(exitBadInput, errors.New("--json prints a document on stdout; with --out - the accounts go there: give --out FILE"))
		}
		return gen(stdout)
	}
	if o.out == "" {
		return exitError(exitBadInput, errors.New("--out is empty"))
	}
	if err := atomicfile.Write(o.out, 0o644, gen); err != nil {
		return err
	}
	if o.json {
		return printDocument(stdout, true, struct {
			Out    string `json:"out"`
			Users  int    `json:"users"`
			Assets int    `json:"assets"`
			Seed   string `json:"seed"`
		}{o.out, o.users, table.Len(), strconv.FormatUint(o.seed, 10)})
	}
	fmt.Fprintf(stdout, "wrote %d accounts over %d assets to %s (seed %d)\n", o.users, table.Len(), o.out, o.seed)
	return nil
}
