package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts"
)

// attestationsOptions are the flags of `attestations`.
type attestationsOptions struct {
	chain    ocChainOptions
	reg      ocRegistryOptions
	cycle    int64
	hasCycle bool
	json     bool
}

// newAttestationsCmd reads attestations back from the registry.
func newAttestationsCmd() *cobra.Command {
	o := &attestationsOptions{}
	cmd := &cobra.Command{
		Use:   "attestations --rpc URL [--cycle N] [--json]",
		Short: "Show the attestations recorded on chain",
		Long: `attestations reads the registry: the latest attestation's summary, and every recorded
attestation (or only --cycle N), each recovered from its event and checked against the hash the
registry stores, so an endpoint cannot show a record the registry did not accept. It sends
nothing but reads to the endpoint.

Each record says whether, and by which auditors, it was countersigned: an auditor in the
registry's auditor set checked the committed reserves against the chain at the reserves block
and recorded (cycle, RC, reserves block) on chain. Without a countersign, RC is the operator's
claim.

Each record shows the liabilities snapshot's age next to the publication time.`,
		Example: `  solvency attestations --rpc http://127.0.0.1:8545
  solvency attestations --rpc $RPC --addresses deploy/addresses.json --cycle 7 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.hasCycle = cmd.Flags().Changed("cycle")
			return runAttestations(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.chain.register(cmd, false)
	o.reg.register(cmd)
	cmd.Flags().Int64Var(&o.cycle, "cycle", 0, "show only this cycle")
	jsonFlag(cmd, &o.json)
	return cmd
}

func runAttestations(ctx context.Context, o *attestationsOptions, stdout io.Writer) error {
	if o.hasCycle && o.cycle < 0 {
		return exitError(exitBadInput, errors.New("--cycle must not be negative"))
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
	latest, err := reg.LatestAttestation(ctx)
	if err != nil {
		return ocExit(err)
	}
	var records []*contracts.Record
	if o.hasCycle {
		rec, err := reg.Record(ctx, uint64(o.cycle))
		if errors.Is(err, contracts.ErrNoAttestation) {
			if o.json {
				// A script asking for a cycle that is not there gets a document, as on exit 2.
				_ = printDocument(stdout, false, struct {
					Error string `json:"error"`
				}{err.Error()})
			}
			return exitError(exitInvalid, err)
		}
		if err != nil {
			return ocExit(err)
		}
		records = append(records, rec)
	} else if records, err = reg.Records(ctx); err != nil {
		return ocExit(err)
	}
	signs := map[uint64][]contracts.Countersign{}
	for _, r := range records {
		if signs[r.Cycle], err = reg.Countersigns(ctx, r.Cycle); err != nil {
			return ocExit(err)
		}
	}
	if o.json {
		return printDocument(stdout, true, newAttestationsDoc(reg.Address, latest, records, signs))
	}
	printAttestations(stdout, reg.Address, latest, records, signs, time.Now())
	return nil
}

// attestationsDoc is the --json document of `attestations`.
type attestationsDoc struct {
	Registry     common.Address   `json:"registry"`
	Latest       latestDoc        `json:"latest"`
	Attestations []attestationDoc `json:"attestations"`
}

// latestDoc is the registry's summary of its latest attestation; count is "0" before the first.
type latestDoc struct {
	Count           string      `json:"count"`
	Cycle           string      `json:"cycle"`
	AttestationHash common.Hash `json:"attestation_hash"`
	SnapshotEpoch   string      `json:"snapshot_epoch"`
	SnapshotTime    string      `json:"snapshot_time"`
	PublishedAt     string      `json:"published_at"`
	ReservesBlock   string      `json:"reserves_block"`
	LC              common.Hash `json:"lc"`
}

// attestationDoc is one recorded attestation. Prices are 8-decimal USD amounts as decimal
// strings; round ids are decimal strings.
type attestationDoc struct {
	Cycle           string      `json:"cycle"`
	ReservesBlock   string      `json:"reserves_block"`
	SnapshotEpoch   string      `json:"snapshot_epoch"`
	SnapshotTime    string      `json:"snapshot_time"`
	PublishedAt     string      `json:"published_at"`
	PublishedBlock  string      `json:"published_block"`
	PolicyHash      string      `json:"policy_hash"`
	LC              string      `json:"lc"`
	RC              string      `json:"rc"`
	PricesUSD       []string    `json:"prices_usd"`
	RoundIDs        []string    `json:"round_ids"`
	BundleURI       string      `json:"bundle_uri"`
	BundleDigest    common.Hash `json:"bundle_digest"`
	AttestationHash common.Hash `json:"attestation_hash"`
	TxHash          common.Hash `json:"tx_hash"`
	// Countersigned is true when at least one auditor countersigned (cycle, RC, reserves block).
	Countersigned   bool             `json:"countersigned"`
	CountersignedBy []countersignDoc `json:"countersigned_by"`
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// usd8 writes an 8-decimal fixed-point price as a decimal string.
func usd8(p uint64) string { return fmt.Sprintf("%d.%08d", p/1e8, p%1e8) }

func newAttestationsDoc(registry common.Address, l contracts.Latest, records []*contracts.Record, signs map[uint64][]contracts.Countersign) attestationsDoc {
	d := attestationsDoc{Registry: registry, Attestations: []attestationDoc{}, Latest: latestDoc{
		Count: u64(l.Count), Cycle: u64(l.Cycle), AttestationHash: l.Hash, SnapshotEpoch: u64(l.SnapshotEpoch),
		SnapshotTime: u64(l.SnapshotTime), PublishedAt: u64(l.PublishedAt), ReservesBlock: u64(l.ReservesBlock),
		LC: l.LC}}
	for _, r := range records {
		a := attestationDoc{Cycle: u64(r.Cycle), ReservesBlock: u64(r.ReservesBlock), SnapshotEpoch: u64(r.SnapshotEpoch),
			SnapshotTime: u64(r.SnapshotTime), PublishedAt: u64(r.PublishedAt), PublishedBlock: u64(r.PublishedBlock),
			PolicyHash: poseidon.Hex(r.PolicyHash), LC: poseidon.Hex(r.LC), RC: poseidon.Hex(r.RC),
			PricesUSD: []string{}, RoundIDs: []string{}, BundleURI: r.BundleURI, BundleDigest: r.BundleDigest,
			AttestationHash: r.Hash, TxHash: r.TxHash, Countersigned: len(signs[r.Cycle]) > 0,
			CountersignedBy: newCountersignDocs(signs[r.Cycle])}
		for _, p := range r.Prices {
			a.PricesUSD = append(a.PricesUSD, usd8(p))
		}
		for _, id := range r.RoundIDs {
			a.RoundIDs = append(a.RoundIDs, bigString(id))
		}
		d.Attestations = append(d.Attestations, a)
	}
	return d
}

func printAttestations(w io.Writer, registry common.Address, latest contracts.Latest, records []*contracts.Record,
	signs map[uint64][]contracts.Countersign, now time.Time) {
	if latest.Count == 0 {
		fmt.Fprintf(w, "registry %s: no attestation recorded\n", registry.Hex())
		return
	}
	fmt.Fprintf(w, "registry %s: %d attestation(s), latest cycle %d\n", registry.Hex(), latest.Count, latest.Cycle)
	for _, r := range records {
		pub := time.Unix(int64(r.PublishedAt), 0).UTC()
		snap := time.Unix(int64(r.SnapshotTime), 0).UTC()
		fmt.Fprintf(w, "\ncycle %d\n", r.Cycle)
		fmt.Fprintf(w, "  published     %s (block %d, %s ago)\n", pub.Format(time.RFC3339), r.PublishedBlock, now.Sub(pub).Round(time.Second))
		fmt.Fprintf(w, "  snapshot      epoch %d, taken %s (%s before publication)\n", r.SnapshotEpoch, snap.Format(time.RFC3339), pub.Sub(snap).Round(time.Second))
		fmt.Fprintf(w, "  reserves at   block %d\n", r.ReservesBlock)
		fmt.Fprintf(w, "  policy        %s\n  LC            %s\n  RC            %s\n",
			poseidon.Hex(r.PolicyHash), poseidon.Hex(r.LC), poseidon.Hex(r.RC))
		for i, p := range r.Prices {
			fmt.Fprintf(w, "  price[%d]      %s USD (round %s)\n", i, usd8(p), r.RoundIDs[i])
		}
		fmt.Fprintf(w, "  bundle        %s\n  digest        %s\n  attestation   %s\n  tx            %s\n",
			r.BundleURI, r.BundleDigest.Hex(), r.Hash.Hex(), r.TxHash.Hex())
		fmt.Fprintf(w, "  countersigned %s\n", describeCountersigns(signs[r.Cycle]))
	}
}
