package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/treasury/policy"
)

// newPolicyCmd is the `policy` command group: read governance policies.
func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Read governance policies: the decoded limits and the policy hash",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newPolicyShowCmd())
	return cmd
}

type policyShowOptions struct {
	search string
	json   bool
}

func newPolicyShowCmd() *cobra.Command {
	o := &policyShowOptions{}
	cmd := &cobra.Command{
		Use:   "show FILE|HASH",
		Short: "Print a policy as a governance voter reads it, with its hash",
		Long: `show decodes a policy file and prints every limit it sets, the policy hash the registry
stores (the proof's first public input) and the chain id and registry it is bound to. Given a
hash (0x + 64 hex digits) instead of a file, it looks for the policy file with that hash among
the .json files of --search (default: the current directory).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPolicyShow(o, args[0], cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&o.search, "search", ".", "directory searched for the policy file when given a hash")
	jsonFlag(cmd, &o.json)
	return cmd
}

// policyShowDoc is the --json document of `policy show`. "policy" is the policy file as
// governance wrote it, in the policy file's own format (docs/policy-encoding.md), not the CLI's convention.
type policyShowDoc struct {
	Hash       string       `json:"hash"`
	AssetsHash string       `json:"assets_hash"`
	ChainID    string       `json:"chain_id"`
	Registry   string       `json:"registry"`
	Policy     *policy.File `json:"policy"`
}

func runPolicyShow(o *policyShowOptions, arg string, out io.Writer) error {
	var f *policy.File
	var err error
	if strings.HasPrefix(arg, "0x") && len(arg) == 66 {
		f, err = findPolicyByHash(o.search, arg)
	} else if f, err = policy.Load(arg); err != nil {
		err = exitError(exitBadInput, err)
	}
	if err != nil {
		return err
	}
	h, err := f.Hash()
	if err != nil {
		return exitError(exitBadInput, err)
	}
	canon, err := f.Canonical()
	if err != nil {
		return exitError(exitBadInput, err)
	}
	if o.json {
		return printDocument(out, true, policyShowDoc{Hash: poseidon.Hex(h), AssetsHash: poseidon.Hex(canon.AssetsHash),
			ChainID: strconv.FormatUint(f.ChainID, 10), Registry: f.Registry, Policy: f})
	}
	return printPolicy(out, f, poseidon.Hex(h), poseidon.Hex(canon.AssetsHash))
}

// findPolicyByHash looks for the policy file with hash hexHash among dir's .json files; files
// that are not policies are passed over.
func findPolicyByHash(dir, hexHash string) (*policy.File, error) {
	want, err := poseidon.ParseHex(hexHash)
	if err != nil {
		return nil, exitError(exitBadInput, err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, p := range paths {
		raw, err := boundedfile.ReadFile(p, boundedfile.Config)
		if err != nil {
			continue
		}
		cand, err := policy.Parse(p, raw)
		if err != nil {
			continue
		}
		if h, err := cand.Hash(); err == nil && h == want {
			return cand, nil
		}
	}
	return nil, exitError(exitBadInput, fmt.Errorf("no policy file in %s has hash %s", dir, hexHash))
}

func pct(bps int64) string { return decimal.New(bps, -2).StringFixed(2) + "%" }

func printPolicy(out io.Writer, f *policy.File, hash, assetsHash string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", f.Name)
	fmt.Fprintf(&b, "policy hash   %s\n", hash)
	fmt.Fprintf(&b, "bound to      chain %d, registry %s\n", f.ChainID, f.Registry)
	fmt.Fprintf(&b, "asset table   %s\n", assetsHash)
	fmt.Fprintf(&b, "\ncollateral    haircut reserves >= %s of liabilities\n", pct(int64(f.MinCollateralBps)))
	if f.Liquidity != nil {
		fmt.Fprintf(&b, "liquidity     liquid assets at liquid venues, less every short of them, >= %s of liabilities\n", pct(int64(f.Liquidity.FloorBps)))
	} else {
		fmt.Fprintf(&b, "liquidity     no buffer\n")
	}
	b.WriteString("\nassets\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  slot\tsymbol\tprecision\thaircut\tin-kind\tliquid\tcap (gross, of net reserves)")
	for i, a := range f.Assets {
		capS := "none"
		if a.CapBps != nil {
			capS = pct(int64(*a.CapBps))
		}
		fmt.Fprintf(tw, "  %d\t%s\t%d\t%s\t%s\t%s\t%s\n", i, a.Symbol, a.Precision, pct(int64(a.HaircutBps)), yesNo(a.InKind), yesNo(a.Liquid), capS)
	}
	tw.Flush()
	writePolicyVenues(&b, f)
	if v := f.VaR; v != nil {
		fmt.Fprintf(&b, "\nVaR           z = %s (confidence %s), horizon %d day(s): z*sqrt(h)*sigma(net exposure) <= surplus\n", v.Z, v.Confidence, v.HorizonDays)
	} else {
		b.WriteString("\nVaR           none\n")
	}
	writePolicyDerivatives(&b, f)
	for _, n := range f.Notes {
		fmt.Fprintf(&b, "\nnote: %s\n", n)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// writePolicyVenues writes the venue groups, venues, target weights and stress scenarios.
func writePolicyVenues(b *strings.Builder, f *policy.File) {
	b.WriteString("\nvenue groups (cap on gross exposure, of net reserves)\n")
	for _, g := range f.Groups {
		capS := "no cap"
		if g.CapBps != nil {
			capS = pct(int64(*g.CapBps))
		}
		fmt.Fprintf(b, "  %-16s %s\n", g.Name, capS)
	}
	b.WriteString("\nvenues\n")
	tiers := map[string]bool{}
	for _, t := range f.Tiers {
		tiers[t.Name] = t.Liquid
	}
	for _, v := range f.Venues {
		liq := "illiquid"
		if tiers[v.Tier] {
			liq = "liquid"
		}
		fmt.Fprintf(b, "  %-16s group %-14s tier %s (%s)\n", v.Name, v.Group, v.Tier, liq)
	}
	if len(f.Targets) > 0 {
		b.WriteString("\ntarget weights (net value, of net reserves)\n")
		for _, t := range f.Targets {
			fmt.Fprintf(b, "  %-22s %s +- %s  [%s]\n", t.Name, pct(int64(t.WeightBps)), pct(int64(t.BandBps)), strings.Join(t.Assets, ", "))
		}
	}
	if len(f.Scenarios) > 0 {
		b.WriteString("\nstress scenarios (shocked haircut reserves must cover shocked liabilities)\n")
		for i, s := range f.Scenarios {
			fmt.Fprintf(b, "  %-24s %s\n", s.Name, strings.Join(f.SortedShocks(i), ", "))
		}
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// writePolicyDerivatives shows the short-option charges (proven) and the Greek limits (committed
// by the hash, enforced by the engine: docs/greeks.md).
func writePolicyDerivatives(b *strings.Builder, f *policy.File) {
	d := f.Derivatives
	if d == nil {
		return
	}
	var charges []string
	for _, a := range f.Assets {
		if c, ok := d.ShortOptionChargeBps[a.Symbol]; ok && c != 0 {
			charges = append(charges, fmt.Sprintf("%s %s", a.Symbol, pct(int64(c))))
		}
	}
	if len(charges) == 0 {
		charges = []string{"none"}
	}
	fmt.Fprintf(b, "\noptions       a short option counts its intrinsic value plus a charge on notional: %s\n", strings.Join(charges, ", "))
	b.WriteString("greek limits  (committed by the hash; the engine enforces them, the proof does not)\n")
	for _, band := range d.DeltaBands {
		if band.Enabled {
			fmt.Fprintf(b, "  delta %-8s |net delta * price| <= %s of net reserves\n", band.Asset, pct(int64(band.BandBps)))
		}
	}
	if d.GammaFloor.Enabled {
		fmt.Fprintf(b, "  gamma          cash gamma per 1%% move >= -%s of net reserves\n", pct(int64(d.GammaFloor.Bps)))
	}
	if d.VegaCap.Enabled {
		fmt.Fprintf(b, "  vega           |vega per vol point| <= %s of net reserves\n", pct(int64(d.VegaCap.Bps)))
	}
}
