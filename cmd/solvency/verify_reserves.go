package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/verifier"
)

type verifyReservesOptions struct {
	opening       string
	bundle        string
	balances      string
	slots         int
	json          bool
	slotsSet      bool // --slots given (0 is then refused)
	rpcGiven      bool // --rpc given: read the opening's chain positions from that node
	useRPC        bool // compare with the registry's record (--rpc, --addresses or --registry given)
	registryGiven bool // --addresses or --registry given
	chain         ocChainOptions
	registry      ocRegistryOptions
}

const verifyReservesLong = `reserves checks the private opening of the reserves commitment RC (the prover writes it as
reserves-opening-NNNNNN.json beside the bundle, for auditors). It parses the opening
canonically (field elements as 0x + 64 lowercase hex digits; amounts as signed decimal circuit
units below 2^64 in magnitude, a negative amount being a short or a borrow), recomputes RC over
its positions padded with zero-amount slots up to the circuit's slot count P, and compares it
with the statement's RC: the bundle's (--bundle; run 'solvency verify bundle' on it first), the
registry's record for the opening's cycle (--rpc with --addresses or --registry), or both. The
opening must name the statement's cycle and reserves block.

P is --slots, else the positions of the bundle's named built-in profile, else the opening's
"slots" field. The option and pool slot counts are the bundle profile's, and the opening's must
equal them; without a bundle naming a built-in profile they are the opening's own (RC commits to
all three counts, so an opening with other counts does not recompute to it).

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
input (a malformed opening or balances file, no statement to compare with, an unreachable node).`
const verifyReservesExample = `  # the opening against a bundle's statement only (no balances: nothing to countersign)
  solvency verify reserves --opening out/bundle-9.private/reserves-opening-000009.json --bundle out/bundle-9

  # against the bundle and the registry's record, with balances observed at the reserves block
  solvency verify reserves --opening reserves-opening-000009.json --bundle out/bundle-9 \
      --rpc $RPC --addresses addresses.json --balances observed-21000000.json

  # every on-chain amount read from your own archive node at the reserves block
  solvency verify reserves --opening reserves-opening-000009.json --bundle out/bundle-9 --rpc $ARCHIVE_RPC

  # against the on-chain record alone, as JSON
  solvency verify reserves --opening reserves-opening-000009.json --rpc $RPC --addresses addresses.json \
      --slots 32 --balances observed.json --json`

// newVerifyReservesCmd is `solvency verify reserves` (R1).
func newVerifyReservesCmd() *cobra.Command {
	o := &verifyReservesOptions{}
	cmd := &cobra.Command{
		Use:     "reserves --opening FILE (--bundle DIR | --rpc URL --addresses FILE) [--balances FILE]",
		Short:   "Check the reserves commitment's opening against the statement and observed balances (auditors)",
		Long:    verifyReservesLong,
		Example: verifyReservesExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			o.slotsSet = f.Changed("slots")
			o.rpcGiven = f.Changed("rpc")
			o.registryGiven = f.Changed("addresses") || f.Changed("registry")
			o.useRPC = o.rpcGiven || o.registryGiven
			return runVerifyReserves(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.opening, "opening", "", "the reserves opening file, reserves-opening-NNNNNN.json (required)")
	f.StringVar(&o.bundle, "bundle", "", "bundle directory whose statement names RC and the reserves block")
	f.StringVar(&o.balances, "balances", "", "observed balances at the reserves block (JSON; see above)")
	f.IntVar(&o.slots, "slots", 0, "position slots P of the circuit (default: the bundle profile's, else the opening's)")
	f.BoolVar(&o.json, "json", false, "print the result as JSON on stdout")
	o.chain.register(cmd, false)
	o.registry.register(cmd)
	_ = cmd.MarkFlagRequired("opening")
	return cmd
}

func runVerifyReserves(ctx context.Context, o *verifyReservesOptions, out io.Writer) error {
	ctx, cancel := ocSignalContext(ctx)
	defer cancel()
	in, res, err := loadReservesInput(ctx, o)
	if err == nil && o.rpcGiven && in.Opening.Chain != nil {
		// The opening names its chain positions: they are read from the --rpc node.
		client, derr := o.chain.dial(ctx)
		if derr == nil {
			defer client.Close()
			in.Chain = client
		}
		err = derr
	}
	if err == nil {
		res, err = verifier.CheckReserves(ctx, *in)
	}
	code := exitBadInput
	if err == nil && !res.OK {
		c := res.Failed()
		code, err = exitInvalid, fmt.Errorf("reserves check FAILED: %s: %s", c.Name, c.Detail)
	}
	if err != nil && res == nil {
		res = &verifier.ReservesResult{Sources: []string{}, Checks: []verifier.Check{}}
	}
	var ae *reservesAbsentError
	if errors.As(err, &ae) {
		code, err = exitInvalid, ae.err
	}
	if err != nil {
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
	if o.json {
		return writeJSON(out, res)
	}
	printReservesResult(out, res)
	return nil
}

// reservesAbsentError is a registry with no record of the opening's cycle: a failed check (exit
// 1), not unusable input.
type reservesAbsentError struct{ err error }

func (e *reservesAbsentError) Error() string { return e.err.Error() }

// loadReservesInput reads the opening, the bundle, the registry's record and the balances. On
// error the returned result, when not nil, holds what is known so far for --json.
func loadReservesInput(ctx context.Context, o *verifyReservesOptions) (*verifier.ReservesInput, *verifier.ReservesResult, error) {
	if o.bundle == "" && !o.useRPC {
		return nil, nil, errors.New("give the statement to check against: --bundle DIR, or --rpc URL with --addresses FILE (or both)")
	}
	if o.slotsSet && o.slots < 1 {
		return nil, nil, fmt.Errorf("--slots %d: want at least 1", o.slots)
	}
	raw, err := bundle.ReadReservesOpening(o.opening)
	if err != nil {
		return nil, nil, fmt.Errorf("--opening: %w", err)
	}
	op, err := verifier.ParseOpening(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.opening, err)
	}
	in := &verifier.ReservesInput{Opening: op, BundleName: o.bundle, Slots: o.slots}
	partial := &verifier.ReservesResult{Sources: []string{}, Checks: []verifier.Check{}, Cycle: op.Cycle, ReservesBlock: op.Block}
	if o.bundle != "" {
		if in.Bundle, err = bundle.ReadManifest(o.bundle); err != nil {
			return nil, partial, fmt.Errorf("--bundle: %w", err)
		}
	}
	// With a bundle and an opening that names its chain positions, --rpc alone reads the chain;
	// the registry's record is then read only when --addresses or --registry is given.
	readRecord := o.useRPC && !(o.rpcGiven && op.Chain != nil && o.bundle != "" && !o.registryGiven)
	if readRecord {
		if in.Record, err = reservesRecord(ctx, o, op.Cycle); err != nil {
			if errors.Is(err, contracts.ErrNoAttestation) {
				partial.Checks = append(partial.Checks, verifier.Check{Name: "the registry records the opening's cycle", Detail: err.Error()})
				return nil, partial, &reservesAbsentError{err}
			}
			return nil, partial, err
		}
	}
	if o.balances != "" {
		if in.Observed, err = verifier.ReadObservedBalances(o.balances); err != nil {
			return nil, partial, fmt.Errorf("--balances: %w", err)
		}
	}
	return in, partial, nil
}

// reservesRecord reads the registry's record of cycle.
func reservesRecord(ctx context.Context, o *verifyReservesOptions, cycle uint64) (*verifier.RecordStatement, error) {
	client, err := o.chain.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	reg, addrs, err := o.registry.bind(ctx, client)
	if err != nil {
		return nil, err
	}
	where := "registry " + reg.Address.Hex()
	if addrs != nil {
		where = fmt.Sprintf("chain %s, registry %s", addrs.ChainID, reg.Address.Hex())
	}
	rec, err := reg.Record(ctx, cycle)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return &verifier.RecordStatement{Where: where, RC: rec.RC, Block: rec.ReservesBlock}, nil
}

func printReservesResult(w io.Writer, res *verifier.ReservesResult) {
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
	printReservesBalances(w, res)
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
		fmt.Fprintln(w, verifier.ReservesCaveat)
		return
	}
	fmt.Fprintf(w, "countersign %s (cycle %d, RC %s, block %d)\n", res.Countersign.Digest, res.Cycle, res.RC, res.ReservesBlock)
	fmt.Fprintf(w, "statement to sign:\n%s\n", res.Countersign.Statement)
}

// printReservesBalances prints the compared amounts and, with --rpc, what was read from chain.
func printReservesBalances(w io.Writer, res *verifier.ReservesResult) {
	if res.Balances != nil {
		fmt.Fprintf(w, "  %-6s %-10s %-26s %-28s %s\n", "venue", "asset", "opened (units)", "observed (units)", "status")
		for _, p := range res.Balances.Positions {
			fmt.Fprintf(w, "  %-6d %-10s %-26s %-28s %s\n", p.Venue, p.Symbol, p.Opened, verifier.DashIfEmpty(p.Observed), p.Status)
		}
	}
	for _, r := range res.ChainReads {
		src := r.Kind + " " + r.Contract
		if r.Contract == "" {
			src = r.Kind
		}
		fmt.Fprintf(w, "  read   venue %-3d %-10s %-48s holder %s: %s base units\n", r.Venue, r.Symbol, src, r.Holder, r.Amount)
	}
}
