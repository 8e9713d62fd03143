package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts"
)

// newAttestationsCmd reads attestations back from the registry.
func newAttestationsCmd() *cobra.Command {
	var (
		chainOpts ocChainOptions
		regOpts   ocRegistryOptions
		cycle     int64
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "attestations --rpc URL [--cycle N] [--json]",
		Short: "Show the attestations recorded on chain",
		Long: `attestations reads the registry: the latest attestation's summary, and every recorded
attestation (or only --cycle N), each recovered from its event and checked against the hash the
registry stores, so an endpoint cannot show a record the registry did not accept. It sends
nothing but reads to the endpoint.

Each record shows the liabilities snapshot's age next to the publication time.`,
		Example: `  solvency attestations --rpc http://127.0.0.1:8545
  solvency attestations --rpc $RPC --addresses deploy/addresses.json --cycle 7 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			client, err := chainOpts.dial(ctx)
			if err != nil {
				return err
			}
			defer client.Close()
			reg, _, err := regOpts.bind(ctx, client)
			if err != nil {
				return ocExit(err)
			}
			latest, err := reg.LatestAttestation(ctx)
			if err != nil {
				return ocExit(err)
			}
			var records []*contracts.Record
			if cmd.Flags().Changed("cycle") {
				if cycle < 0 {
					return exitError(exitBadInput, errors.New("--cycle must not be negative"))
				}
				rec, err := reg.Record(ctx, uint64(cycle))
				if errors.Is(err, contracts.ErrNoAttestation) {
					return exitError(exitInvalid, err)
				}
				if err != nil {
					return ocExit(err)
				}
				records = append(records, rec)
			} else if records, err = reg.Records(ctx); err != nil {
				return ocExit(err)
			}
			if records == nil {
				records = []*contracts.Record{} // [] rather than null in JSON
			}
			if asJSON {
				return ocPrintJSON(cmd.OutOrStdout(), map[string]any{
					"registry": reg.Address, "latest": latest, "attestations": records})
			}
			w := cmd.OutOrStdout()
			if latest.Count == 0 {
				fmt.Fprintf(w, "registry %s: no attestation recorded\n", reg.Address.Hex())
				return nil
			}
			fmt.Fprintf(w, "registry %s: %d attestation(s), latest cycle %d\n", reg.Address.Hex(), latest.Count, latest.Cycle)
			now := time.Now()
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
					fmt.Fprintf(w, "  price[%d]      %d.%08d USD (round %s)\n", i, p/1e8, p%1e8, r.RoundIDs[i])
				}
				fmt.Fprintf(w, "  bundle        %s\n  digest        %s\n  attestation   %s\n  tx            %s\n",
					r.BundleURI, r.BundleDigest.Hex(), r.Hash.Hex(), r.TxHash.Hex())
			}
			return nil
		},
	}
	chainOpts.register(cmd, false)
	regOpts.register(cmd)
	cmd.Flags().Int64Var(&cycle, "cycle", 0, "show only this cycle")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}
