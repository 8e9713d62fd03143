package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts"
)

// btoi counts a flag that is set.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parseAddressList reads comma-separated addresses ("none" or nothing: the empty list).
func parseAddressList(flag string, values []string) ([]common.Address, error) {
	var out []common.Address
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" || v == "none" {
			continue
		}
		if !common.IsHexAddress(v) {
			return nil, exitError(exitBadInput, fmt.Errorf("%s: %q is not an address", flag, v))
		}
		out = append(out, common.HexToAddress(v))
	}
	if err := contracts.CheckAuditors(out); err != nil {
		return nil, exitError(exitBadInput, fmt.Errorf("%s: %w", flag, err))
	}
	return out, nil
}

// contractsChangeOptions are the flags of `contracts change`.
type contractsChangeOptions struct {
	chain  ocChainOptions
	reg    ocRegistryOptions
	to     []string
	apply  bool
	cancel bool
	json   bool
}

func newContractsChangeCmd() *cobra.Command {
	o := &contractsChangeOptions{}
	cmd := &cobra.Command{
		Use:   "change (policy|prover|auditors|feeds|governance) [--to VALUE | --apply | --cancel]",
		Short: "Announce, apply or cancel a change of a governance power, through the delay (governance)",
		Long: `change goes through the registry's one delay for every governance power
(docs/governance.md):

  --to VALUE   announces the change; it can be applied once the registry's delay has passed
               policy: a policy hash; prover, governance: an address; auditors: addresses,
               comma-separated ("none" for no auditor); feeds: AGGREGATOR:HEARTBEAT per asset
  --apply      applies the announced change (its value is read from the announcement and
               checked against the hash the registry stores); a new governance applies its own
               appointment with its own key
  --cancel     withdraws the announced change

With no flag it shows the announced change of that power, if any. Every step emits an event;
'contracts check' lists what is pending.`,
		Example: `  solvency contracts change prover --to 0x1234... --rpc $RPC --key gov.key
  solvency contracts change auditors --to 0xAAAA...,0xBBBB... --rpc $RPC --key gov.key
  solvency contracts change policy --apply --rpc $RPC --key gov.key
  solvency contracts change governance --apply --rpc $RPC --keystore new-gov.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runContractsChange(cmd.Context(), o, args[0], cmd.OutOrStdout())
		},
	}
	o.chain.register(cmd, true)
	o.reg.register(cmd)
	cmd.Flags().StringSliceVar(&o.to, "to", nil, "the new value to announce")
	cmd.Flags().BoolVar(&o.apply, "apply", false, "apply the announced change once its delay has passed")
	cmd.Flags().BoolVar(&o.cancel, "cancel", false, "withdraw the announced change")
	jsonFlag(cmd, &o.json)
	return cmd
}

// changeDoc is the --json document of `contracts change`.
type changeDoc struct {
	Registry common.Address `json:"registry"`
	Power    string         `json:"power"`
	Action   string         `json:"action"` // "announced", "applied", "cancelled", "pending" or "none"
	Value    string         `json:"value,omitempty"`
	ETA      string         `json:"eta,omitempty"`
}

// changeValue encodes --to for a power.
func changeValue(p contracts.Power, to []string) ([]byte, error) {
	one := func() (string, error) {
		if len(to) != 1 {
			return "", fmt.Errorf("--to: want one value for %s", p)
		}
		return strings.TrimSpace(to[0]), nil
	}
	switch p {
	case contracts.PowerPolicyHash:
		v, err := one()
		if err != nil {
			return nil, err
		}
		e, err := poseidon.ParseHex(v)
		if err != nil {
			return nil, fmt.Errorf("--to: %w", err)
		}
		return contracts.PolicyValue(e), nil
	case contracts.PowerProver, contracts.PowerGovernance:
		v, err := one()
		if err != nil {
			return nil, err
		}
		if !common.IsHexAddress(v) {
			return nil, fmt.Errorf("--to: %q is not an address", v)
		}
		return contracts.AddressValue(common.HexToAddress(v)), nil
	case contracts.PowerAuditors:
		list, err := parseAddressList("--to", to)
		if err != nil {
			return nil, err
		}
		return contracts.AuditorsValue(list), nil
	case contracts.PowerFeeds:
		var feeds, hbs []string
		for _, v := range to {
			f, hb, ok := strings.Cut(strings.TrimSpace(v), ":")
			if !ok {
				return nil, fmt.Errorf("--to: %q: want AGGREGATOR:HEARTBEAT", v)
			}
			feeds, hbs = append(feeds, f), append(hbs, hb)
		}
		fcs, err := ocParseFeeds(feeds, hbs)
		if err != nil {
			return nil, err
		}
		return contracts.FeedsValue(fcs), nil
	}
	return nil, fmt.Errorf("unknown power %s", p)
}

func runContractsChange(ctx context.Context, o *contractsChangeOptions, power string, stdout io.Writer) error {
	p, err := contracts.ParsePower(power)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	if btoi(len(o.to) > 0)+btoi(o.apply)+btoi(o.cancel) > 1 {
		return exitError(exitBadInput, errors.New("give one of --to, --apply or --cancel"))
	}
	var value []byte
	if len(o.to) > 0 {
		if value, err = changeValue(p, o.to); err != nil {
			var ee *exitErr
			if errors.As(err, &ee) {
				return err
			}
			return exitError(exitBadInput, err)
		}
	}
	client, err := o.chain.dial(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	reg, _, err := o.reg.bind(ctx, client)
	if err != nil {
		return ocExit(err)
	}
	doc := changeDoc{Registry: reg.Address, Power: p.String(), Action: "none"}
	if value != nil || o.apply || o.cancel {
		chain, err := o.chain.chain(ctx, client)
		if err != nil {
			return err
		}
		switch {
		case value != nil:
			if err := reg.Announce(ctx, chain, p, value); err != nil {
				return ocExit(err)
			}
			doc.Action = "announced"
		case o.apply:
			pc, err := reg.ApplyPending(ctx, chain, p)
			if err != nil {
				return ocExit(err)
			}
			doc.Action, doc.Value = "applied", pc.Description
		default:
			if err := reg.CancelChange(ctx, chain, p); err != nil {
				return ocExit(err)
			}
			doc.Action = "cancelled"
		}
	}
	if doc.Action == "none" || doc.Action == "announced" {
		pc, err := reg.Pending(ctx, p)
		if err != nil {
			return ocExit(err)
		}
		if pc != nil {
			if doc.Action == "none" {
				doc.Action = "pending"
			}
			doc.Value, doc.ETA = pc.Description, strconv.FormatUint(pc.ETA, 10)
		}
	}
	if o.json {
		return printDocument(stdout, true, doc)
	}
	switch doc.Action {
	case "announced", "pending":
		fmt.Fprintf(stdout, "%s change to %s %s; it may be applied from %s with --apply\n", p, doc.Value, doc.Action, fmtUnix(doc.ETA))
	case "applied":
		fmt.Fprintf(stdout, "%s change to %s applied\n", p, doc.Value)
	case "cancelled":
		fmt.Fprintf(stdout, "announced %s change withdrawn\n", p)
	default:
		fmt.Fprintf(stdout, "no %s change is announced\n", p)
	}
	return nil
}

// contractsCountersignOptions are the flags of `contracts countersign`.
type contractsCountersignOptions struct {
	chain ocChainOptions
	reg   ocRegistryOptions
	cycle int64
	json  bool
}

func newContractsCountersignCmd() *cobra.Command {
	o := &contractsCountersignOptions{cycle: -1}
	cmd := &cobra.Command{
		Use:   "countersign --cycle N --rpc URL (--key FILE | --keystore FILE)",
		Short: "Countersign a cycle's (RC, reserves block) on chain after checking its reserves (auditors)",
		Long: `countersign records on the registry, from an auditor's key, that the auditor checked the
cycle's reserves against the chain: it reads the cycle's attestation (checked against the hash
the registry stores) and sends countersign(cycle, RC, reserves block) with it. The registry
refuses a key outside its auditor set, an RC or reserves block other than the recorded ones, and
a second countersign by the same auditor; run again, it sends nothing (idempotent).

Run 'solvency verify reserves --rpc URL --opening FILE' first, on your own archive node: a
countersign tells users that someone other than the operator found the committed positions on
chain at the reserves block. 'solvency attestations' and 'verify inclusion' show who
countersigned.`,
		Example: `  solvency verify reserves --rpc $ARCHIVE --opening opening.json bundle/
  solvency contracts countersign --cycle 7 --rpc $RPC --addresses addresses.json --keystore auditor.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := ocSignalContext(cmd.Context())
			defer stop()
			return runContractsCountersign(ctx, o, cmd.OutOrStdout())
		},
	}
	o.chain.register(cmd, true)
	o.reg.register(cmd)
	cmd.Flags().Int64Var(&o.cycle, "cycle", -1, "the cycle to countersign (required)")
	jsonFlag(cmd, &o.json)
	return cmd
}

func runContractsCountersign(ctx context.Context, o *contractsCountersignOptions, stdout io.Writer) error {
	if o.cycle < 0 {
		return exitError(exitBadInput, errors.New("--cycle N is required"))
	}
	client, reg, chain, err := ocSigner(ctx, &o.chain, &o.reg)
	if err != nil {
		return err
	}
	defer client.Close()
	ok, err := reg.IsAuditor(ctx, chain.From())
	if err != nil {
		return ocExit(err)
	}
	if !ok {
		return exitError(exitInvalid, fmt.Errorf("%s is not in the registry's auditor set; governance adds auditors with 'contracts change auditors' (after the delay)", chain.From().Hex()))
	}
	res, err := reg.Countersign(ctx, chain, uint64(o.cycle))
	if errors.Is(err, contracts.ErrNoAttestation) {
		return exitError(exitInvalid, err)
	}
	if err != nil {
		return ocExit(err)
	}
	if o.json {
		return printDocument(stdout, true, struct {
			Registry          common.Address `json:"registry"`
			Cycle             string         `json:"cycle"`
			Auditor           common.Address `json:"auditor"`
			RC                common.Hash    `json:"rc"`
			ReservesBlock     string         `json:"reserves_block"`
			AlreadySigned     bool           `json:"already_countersigned"`
			TxHash            string         `json:"tx_hash,omitempty"`
			GasUsed           string         `json:"gas_used,omitempty"`
			CountersignsCount string         `json:"countersigns"`
		}{reg.Address, u64(res.Cycle), res.Auditor, res.RC, u64(res.ReservesBlock), res.AlreadySigned,
			txString(res.TxHash), gasString(res.GasUsed), u64(res.CountersignsCount)})
	}
	if res.AlreadySigned {
		fmt.Fprintf(stdout, "cycle %d was already countersigned by %s; nothing sent\n", res.Cycle, res.Auditor.Hex())
	} else {
		fmt.Fprintf(stdout, "countersigned cycle %d as %s: RC %s, reserves block %d (tx %s, gas %d)\n",
			res.Cycle, res.Auditor.Hex(), res.RC.Hex(), res.ReservesBlock, res.TxHash.Hex(), res.GasUsed)
	}
	fmt.Fprintf(stdout, "%d countersign(s) recorded for cycle %d\n", res.CountersignsCount, res.Cycle)
	return nil
}

func txString(h common.Hash) string {
	if h == (common.Hash{}) {
		return ""
	}
	return h.Hex()
}

func gasString(g uint64) string {
	if g == 0 {
		return ""
	}
	return u64(g)
}

// describeCountersigns says, in one line, whether and by whom a cycle was countersigned.
func describeCountersigns(cs []contracts.Countersign) string {
	if len(cs) == 0 {
		return "no: no auditor has countersigned that the chain held these reserves (RC is the operator's claim)"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s (block %d", c.Auditor.Hex(), c.Block)
		if !c.StillAuditor {
			parts[i] += ", no longer an auditor"
		}
		parts[i] += ")"
	}
	return "yes, by " + strings.Join(parts, ", ")
}

// countersignDoc is one countersign in JSON documents.
type countersignDoc struct {
	Auditor      common.Address `json:"auditor"`
	Block        string         `json:"block"`
	TxHash       common.Hash    `json:"tx_hash"`
	StillAuditor bool           `json:"still_auditor"`
}

func newCountersignDocs(cs []contracts.Countersign) []countersignDoc {
	out := []countersignDoc{}
	for _, c := range cs {
		out = append(out, countersignDoc{Auditor: c.Auditor, Block: u64(c.Block), TxHash: c.TxHash, StillAuditor: c.StillAuditor})
	}
	return out
}

// describeCountersignDocs is describeCountersigns for the JSON form a result keeps.
func describeCountersignDocs(ds []countersignDoc) string {
	cs := make([]contracts.Countersign, len(ds))
	for i, d := range ds {
		b, _ := strconv.ParseUint(d.Block, 10, 64)
		cs[i] = contracts.Countersign{Auditor: d.Auditor, Block: b, TxHash: d.TxHash, StillAuditor: d.StillAuditor}
	}
	return describeCountersigns(cs)
}
