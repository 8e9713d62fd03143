package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/verifier"
)

// reservesCaveat is printed with every result that has no balances check (R1).
const reservesCaveat = `Without --balances this shows only that the opening is the committed portfolio: the proof
says that portfolio meets the policy, not that the treasury holds it. Compare every amount with
chain state at the reserves block (--balances) before countersigning.`

type verifyReservesOptions struct {
	opening  string
	bundle   string
	balances string
	slots    int
	json     bool
	chain    ocChainOptions
	registry ocRegistryOptions
}

// newVerifyReservesCmd is `solvency verify reserves` (R1).
func newVerifyReservesCmd() *cobra.Command {
	o := &verifyReservesOptions{}
	cmd := &cobra.Command{
		Use:   "reserves --opening FILE (--bundle DIR | --rpc URL --addresses FILE) [--balances FILE]",
		Short: "Check the reserves commitment's opening against the statement and observed balances (auditors)",
		Long: `reserves checks the private opening of the reserves commitment RC (the prover writes it as
reserves-opening-NNNNNN.json beside the bundle, for auditors). It parses the opening
canonically (field elements as 0x + 64 lowercase hex digits; amounts as signed decimal circuit
units below 2^64 in magnitude, a negative amount being a short or a borrow), recomputes RC over
its positions padded with zero-amount slots up to the circuit's slot count P, and compares it
with the statement's RC: the bundle's (--bundle; run 'solvency verify bundle' on it first), the
registry's record for the opening's cycle (--rpc with --addresses or --registry), or both. The
opening must name the statement's cycle and reserves block.

P is --slots, else the opening's "slots" field, else the positions of the bundle's named built-in
profile.

--balances FILE compares every opened (venue, asset) amount with the amount you observed on
chain at the reserves block. The file is JSON, produced by your own tooling from your own node:

  {"version": 1, "reserves_block": 21000000, "chain_id": 1,
   "balances": [
     {"venue": 0, "asset": 0, "symbol": "ETH", "amount_base": "1500000000000000000",
      "source": "eth_getBalance 0x5afe... @21000000"},
     {"venue": 1, "asset": 0, "symbol": "ETH", "amount_units": "-250000",
      "source": "variableDebtWETH.balanceOf(0x5afe...) @21000000"}]}

Each entry is a signed amount (positive held, negative owed) in either amount_base (the token's
on-chain base units, compared exactly) or amount_units (circuit units, the asset's precision,
as in the opening); symbol, when given, must be the asset table's. A pair fails when the opened
amount is above the observed one: a long above the balance, a short or borrow smaller than the
observed debt, a debt the opening does not show. A nonzero opened amount that was not observed
fails too. Opened amounts below the observed ones are conservative and pass.

With --rpc, when the opening names where its on-chain positions are held (its "chain" field:
chain id, a multicall address, and per (venue, asset) a holder and a token, ERC-4626 vault or
debt token), this command reads every one of them itself from that node at the statement's
reserves block, with one call at that block to Uniswap's read aggregator UniswapInterfaceMulticall
(use an archive node: older blocks need it), after checking the node's chain id and that the
multicall address holds exactly the build @uniswap/v3-periphery 1.4.4 ships. Amounts are
compared as observed balances are: any long above what the chain holds, any debt below it, or
an opened amount nobody observed fails. --balances then adds venues with no contract
(custodians, exchanges); a (venue, asset) may come from one source only. The holders
and contracts read are printed: check that they are the treasury's and the real venues', and
that none of the treasury's accounts or debts is missing (a debt the opening leaves out of its
chain positions is not read).

When every check holds and balances were compared, it prints a countersignature: the digest
sha256(cycle ‖ RC ‖ block) (8-byte big-endian cycle, 32-byte RC, 8-byte big-endian block) and a
statement naming it, for you to sign with your own key and publish.

Exit status: 0 every check holds, 1 a check failed (RC, cycle, block or a balance), 2 unusable
input (a malformed opening or balances file, no statement to compare with, an unreachable node).`,
		Example: `  # the opening against a bundle's statement only (no balances: nothing to countersign)
  solvency verify reserves --opening out/bundle-9.private/reserves-opening-000009.json --bundle out/bundle-9

  # against the bundle and the registry's record, with balances observed at the reserves block
  solvency verify reserves --opening reserves-opening-000009.json --bundle out/bundle-9 \
      --rpc $RPC --addresses addresses.json --balances observed-21000000.json

  # every on-chain amount read from your own archive node at the reserves block
  solvency verify reserves --opening reserves-opening-000009.json --bundle out/bundle-9 --rpc $ARCHIVE_RPC

  # against the on-chain record alone, as JSON
  solvency verify reserves --opening reserves-opening-000009.json --rpc $RPC --addresses addresses.json \
      --slots 32 --balances observed.json --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerifyReserves(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.opening, "opening", "", "the reserves opening file, reserves-opening-NNNNNN.json (required)")
	f.StringVar(&o.bundle, "bundle", "", "bundle directory whose statement names RC and the reserves block")
	f.StringVar(&o.balances, "balances", "", "observed balances at the reserves block (JSON; see above)")
	f.IntVar(&o.slots, "slots", 0, "position slots P of the circuit (default: the opening's, else the bundle profile's)")
	f.BoolVar(&o.json, "json", false, "print the result as JSON on stdout")
	o.chain.register(cmd, false)
	o.registry.register(cmd)
	_ = cmd.MarkFlagRequired("opening")
	return cmd
}

// reservesResult is `verify reserves --json`'s output.
type reservesResult struct {
	OK            bool                    `json:"ok"`
	Malformed     bool                    `json:"malformed,omitempty"`
	Reason        string                  `json:"reason,omitempty"`
	Cycle         uint64                  `json:"cycle"`
	RC            string                  `json:"rc,omitempty"`
	ReservesBlock uint64                  `json:"reserves_block"`
	Slots         int                     `json:"slots,omitempty"`
	Sources       []string                `json:"sources"`
	Checks        []verifier.Check        `json:"checks"`
	Balances      *verifier.BalanceReport `json:"balances,omitempty"`
	ChainReads    []verifier.ChainRead    `json:"chain_reads,omitempty"`
	Countersign   *reservesCountersign    `json:"countersign,omitempty"`
	Note          string                  `json:"note,omitempty"`
}

type reservesCountersign struct {
	Digest    string `json:"digest"` // sha256:<hex> of cycle ‖ RC ‖ block
	Statement string `json:"statement"`
}

func runVerifyReserves(cmd *cobra.Command, o *verifyReservesOptions) error {
	out := cmd.OutOrStdout()
	res := &reservesResult{Sources: []string{}, Checks: []verifier.Check{}}
	fail := func(code int, err error) error {
		res.OK, res.Reason, res.Malformed = false, err.Error(), code == exitBadInput
		if o.json {
			if werr := writeJSON(out, res); werr != nil {
				return werr
			}
		} else if code == exitInvalid {
			printReservesResult(out, res)
		}
		return exitError(code, err)
	}
	rpcGiven := cmd.Flags().Changed("rpc")
	useRPC := rpcGiven || cmd.Flags().Changed("addresses") || cmd.Flags().Changed("registry")
	if o.bundle == "" && !useRPC {
		return fail(exitBadInput, errors.New("give the statement to check against: --bundle DIR, or --rpc URL with --addresses FILE (or both)"))
	}
	if cmd.Flags().Changed("slots") && o.slots < 1 {
		return fail(exitBadInput, fmt.Errorf("--slots %d: want at least 1", o.slots))
	}

	raw, err := bundle.ReadReservesOpening(o.opening)
	if err != nil {
		return fail(exitBadInput, fmt.Errorf("--opening: %w", err))
	}
	op, err := verifier.ParseOpening(raw)
	if err != nil {
		return fail(exitBadInput, fmt.Errorf("%s: %w", o.opening, err))
	}
	res.Cycle, res.ReservesBlock = op.Cycle, op.Block
	// --rpc with a bundle and an opening that names its chain positions reads the chain for the
	// balances; the registry's record is then read only when --addresses or --registry is given.
	onChain := rpcGiven && op.Chain != nil
	if onChain && o.bundle != "" && !cmd.Flags().Changed("addresses") && !cmd.Flags().Changed("registry") {
		useRPC = false
	}

	// The statement(s): the bundle's, the registry's record, or both.
	var (
		m       *bundle.Manifest
		rc      fr.Element // the RC the opening is compared with first
		block   uint64
		chainID string
		more    []fr.Element
		table   []assets.Asset
	)
	if o.bundle != "" {
		if m, err = bundle.ReadManifest(o.bundle); err != nil {
			return fail(exitBadInput, fmt.Errorf("--bundle: %w", err))
		}
		rc, block = m.Statement.RC.Element, m.Statement.ReservesBlock
		table = m.Assets.Assets
		if m.Statement.Registry != "" {
			chainID = fmt.Sprintf("chain %d, registry %s", m.Statement.ChainID, m.Statement.Registry)
		}
		res.Sources = append(res.Sources, "bundle "+o.bundle)
		res.Checks = append(res.Checks, reservesCheck("the opening names the bundle's cycle",
			reservesEq("the opening's cycle", op.Cycle, "the bundle's", m.Statement.Cycle)))
	}
	if useRPC {
		rec, where, err := reservesRecord(cmd, o, op.Cycle)
		if errors.Is(err, contracts.ErrNoAttestation) {
			res.Checks = append(res.Checks, reservesCheck("the registry records the opening's cycle", err))
			return fail(exitInvalid, err)
		}
		if err != nil {
			return fail(exitBadInput, err)
		}
		res.Sources = append(res.Sources, where)
		if m == nil {
			rc, block, chainID = rec.RC, rec.ReservesBlock, where
		} else {
			more = append(more, rec.RC)
			res.Checks = append(res.Checks, reservesCheck("the registry's record names the bundle's reserves block",
				reservesEq("the registry's reserves block", rec.ReservesBlock, "the bundle's", block)))
			if chainID == "" {
				chainID = where
			}
		}
	}
	res.RC = poseidon.Hex(rc)
	res.Checks = append(res.Checks, reservesCheck("the opening names the statement's reserves block",
		reservesEq("the opening's reserves block", op.Block, "the statement's", block)))

	// P: --slots, the opening's field, the bundle profile's.
	slots := o.slots
	if slots == 0 {
		slots = op.Slots
	}
	if slots == 0 && m != nil {
		if p, err := profile.Lookup(m.Profile); err == nil {
			slots = p.Positions
		}
	}
	if slots == 0 {
		return fail(exitBadInput, errors.New("the opening has no \"slots\" field and the slot count is not known from a built-in profile: give --slots P"))
	}
	res.Slots = slots
	_, err = op.Check(rc, slots, more...)
	if err != nil && !errors.Is(err, verifier.ErrReservesMismatch) {
		return fail(exitBadInput, fmt.Errorf("%s: %w", o.opening, err))
	}
	rcName := "the opening recomputes to the statement's RC"
	if len(res.Sources) > 1 {
		rcName = "the opening recomputes to the bundle's and the registry's RC"
	}
	res.Checks = append(res.Checks, reservesCheck(rcName, err))

	// The asset table labels the amounts: the bundle's is public (and bound to LC); the opening's
	// own copy must agree with it.
	if m != nil && len(op.Assets) > 0 {
		res.Checks = append(res.Checks, reservesCheck("the opening's asset table is the bundle's", reservesSameTable(op.Assets, table)))
	}
	if table == nil {
		table = op.Assets
		if o.balances != "" {
			res.Note = "asset symbols and decimals come from the opening: give --bundle to check them against the public asset table"
		}
	}

	if o.balances != "" || onChain {
		if len(table) == 0 {
			return fail(exitBadInput, errors.New("no asset table to read amounts with (give --bundle)"))
		}
		var obs *verifier.ObservedBalances
		if o.balances != "" {
			if obs, err = verifier.ReadObservedBalances(o.balances); err != nil {
				return fail(exitBadInput, fmt.Errorf("--balances: %w", err))
			}
			// Amounts are compared at the statement's block; the opening must name it too (checked above).
			if obs.Block != block {
				return fail(exitBadInput, fmt.Errorf("--balances: observed at block %d; the statement's reserves block is %d", obs.Block, block))
			}
		}
		cmp := *op
		cmp.Block = block
		var rep *verifier.BalanceReport
		if onChain {
			var read *verifier.ChainReadReport
			rep, read, err = reservesFromChain(cmd, o, &cmp, obs, table)
			if read != nil {
				res.ChainReads = read.Reads
			}
			if errors.Is(err, verifier.ErrReservesMismatch) {
				res.Checks = append(res.Checks, reservesCheck("the chain positions are read through the pinned multicall build", err))
				return fail(exitInvalid, err)
			}
		} else {
			rep, err = verifier.CompareBalances(&cmp, obs, table)
		}
		if err != nil {
			return fail(exitBadInput, fmt.Errorf("balances: %w", err))
		}
		res.Balances = rep
		var bad []string
		for _, p := range rep.Failed() {
			bad = append(bad, fmt.Sprintf("(venue %d, %s) opened %s, observed %s: %s", p.Venue, p.Symbol, p.Opened, reservesOrNone(p.Observed), p.Status))
		}
		var berr error
		if len(bad) > 0 {
			berr = errors.New(strings.Join(bad, "; "))
		}
		what := "observed"
		if onChain {
			what = "read from the chain"
		}
		res.Checks = append(res.Checks, reservesCheck(fmt.Sprintf("every opened amount is covered by the balance %s at block %d", what, block), berr))
	}

	for _, c := range res.Checks {
		if !c.OK {
			return fail(exitInvalid, fmt.Errorf("reserves check FAILED: %s: %s", c.Name, c.Detail))
		}
	}
	res.OK = true
	if res.Balances != nil {
		d := verifier.CountersignDigest(op.Cycle, rc, block)
		res.Countersign = &reservesCountersign{
			Digest:    "sha256:" + hex.EncodeToString(d[:]),
			Statement: verifier.CountersignStatement(op.Cycle, rc, block, chainID),
		}
	} else if res.Note == "" {
		res.Note = strings.Join(strings.Fields(reservesCaveat), " ")
	}
	if o.json {
		return writeJSON(out, res)
	}
	printReservesResult(out, res)
	return nil
}

// reservesFromChain reads the opening's chain positions from the --rpc node at the reserves
// block and compares them (with any off-chain observations) with the opened amounts.
func reservesFromChain(cmd *cobra.Command, o *verifyReservesOptions, op *verifier.OpenedReserves, off *verifier.ObservedBalances, table []assets.Asset) (*verifier.BalanceReport, *verifier.ChainReadReport, error) {
	ctx, cancel := ocSignalContext(cmd.Context())
	defer cancel()
	client, err := o.chain.dial(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer client.Close()
	return verifier.CheckReservesOnChain(ctx, client, op, op.Chain, off, table)
}

// reservesRecord reads the registry's record of cycle.
func reservesRecord(cmd *cobra.Command, o *verifyReservesOptions, cycle uint64) (*contracts.Record, string, error) {
	ctx, cancel := ocSignalContext(cmd.Context())
	defer cancel()
	client, err := o.chain.dial(ctx)
	if err != nil {
		return nil, "", err
	}
	defer client.Close()
	reg, addrs, err := o.registry.bind(ctx, client)
	if err != nil {
		return nil, "", err
	}
	where := "registry " + reg.Address.Hex()
	if addrs != nil {
		where = fmt.Sprintf("chain %s, registry %s", addrs.ChainID, reg.Address.Hex())
	}
	rec, err := reg.Record(ctx, cycle)
	if err != nil {
		return nil, where, fmt.Errorf("%s: %w", where, err)
	}
	return rec, where, nil
}

func printReservesResult(w io.Writer, res *reservesResult) {
	for _, c := range res.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %s\n", mark, c.Name)
		if !c.OK {
			fmt.Fprintf(w, "        %s\n", c.Detail)
		}
	}
	if res.Balances != nil {
		fmt.Fprintf(w, "  %-6s %-10s %-26s %-28s %s\n", "venue", "asset", "opened (units)", "observed (units)", "status")
		for _, p := range res.Balances.Positions {
			fmt.Fprintf(w, "  %-6d %-10s %-26s %-28s %s\n", p.Venue, p.Symbol, p.Opened, reservesOrNone(p.Observed), p.Status)
		}
	}
	for _, r := range res.ChainReads {
		src := r.Kind + " " + r.Contract
		if r.Contract == "" {
			src = r.Kind
		}
		fmt.Fprintf(w, "  read   venue %-3d %-10s %-48s holder %s: %s base units\n", r.Venue, r.Symbol, src, r.Holder, r.Amount)
	}
	if !res.OK {
		return
	}
	fmt.Fprintf(w, "reserves opening valid: cycle %d, RC %s, reserves block %d, %d slots (%s)\n",
		res.Cycle, res.RC, res.ReservesBlock, res.Slots, strings.Join(res.Sources, "; "))
	if res.Note != "" && res.Countersign != nil {
		fmt.Fprintf(w, "NOTE: %s\n", res.Note)
	}
	if res.Countersign == nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, reservesCaveat)
		return
	}
	fmt.Fprintf(w, "countersign %s (cycle %d, RC %s, block %d)\n", res.Countersign.Digest, res.Cycle, res.RC, res.ReservesBlock)
	fmt.Fprintf(w, "statement to sign:\n%s\n", res.Countersign.Statement)
}

func reservesCheck(name string, err error) verifier.Check {
	c := verifier.Check{Name: name, OK: err == nil}
	if err != nil {
		c.Detail = err.Error()
	}
	return c
}

func reservesEq(what string, got uint64, other string, want uint64) error {
	if got != want {
		return fmt.Errorf("%s is %d; %s is %d", what, got, other, want)
	}
	return nil
}

func reservesSameTable(a, b []assets.Asset) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d assets in the opening, %d in the bundle", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return fmt.Errorf("asset %d is %+v in the opening, %+v in the bundle", i, a[i], b[i])
		}
	}
	return nil
}

func reservesOrNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
