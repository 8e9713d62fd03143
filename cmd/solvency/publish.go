package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/bundlefetch"
	"github.com/solvency-dev/solvency/contracts"
)

const publishLong = `publish reads a proven bundle (BUNDLE/manifest.json, as 'solvency prove' writes it: the
statement, the oracle rounds and the solvency proof; the bundle's digest and location are
recorded on chain: with --bundle-url BASE, the address BASE/bundles/DIGEST, where 'solvency serve'
serves it; without, a file:// path that only this machine can open), or BUNDLE/statement.json (or BUNDLE itself when it is a file; the schema is
in contracts/README.md), and sends the proof and the statement to the registry, which checks the
oracle rounds, builds the public inputs itself and verifies the proof.

It is idempotent by cycle: it first asks the registry whether the cycle is recorded. If the
registry already holds this statement for the cycle it reports that and sends nothing; if it holds
another statement, or a later cycle, it stops with exit code 1. It never keys on transaction
hashes or proof bytes. A refusal by the registry (an invalid proof, a stale price, another
policy) is shown by its error name and exits with code 1.

The registry takes only each price feed's latest round. If a feed has posted a newer round than
the bundle names, publish says which, sends nothing and exits with code 1: prove the cycle again
at the latest rounds ('solvency run' does this by itself).`

const publishExample = `  solvency publish out/cycle-7 --rpc http://127.0.0.1:8545 --key .devnet/dev.key --bundle-url https://proofs.example.org
  SOLVENCY_KEY=$(cat prover.key) solvency publish out/cycle-7 --rpc $RPC --addresses deploy/addresses.json --json`

// publishOptions are `solvency publish`'s arguments and flags.
type publishOptions struct {
	path      string // BUNDLE: a bundle directory or a statement file
	bundleURL string
	json      bool
	chain     ocChainOptions
	registry  ocRegistryOptions
}

// newPublishCmd publishes a cycle's attestation to the registry.
func newPublishCmd() *cobra.Command {
	o := &publishOptions{}
	cmd := &cobra.Command{
		Use:     "publish BUNDLE --rpc URL --key FILE",
		Short:   "Publish a cycle's proof and statement to the attestation registry",
		Long:    publishLong,
		Example: publishExample,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := ocSignalContext(cmd.Context())
			defer stop()
			o.path = args[0]
			return runPublish(ctx, cmd.OutOrStdout(), o)
		},
	}
	o.chain.register(cmd, true)
	o.registry.register(cmd)
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	cmd.Flags().StringVar(&o.bundleURL, "bundle-url", "", "https:// or http:// base URL the bundle is served under; BASE/bundles/DIGEST is recorded on chain "+
		"(the path 'solvency serve' serves). Without it a file:// path is recorded, which only this machine can open")
	return cmd
}

// runPublish is `solvency publish`: read the attestation, send it (or find it already on chain)
// and say what happened.
func runPublish(ctx context.Context, out io.Writer, o *publishOptions) error {
	if o.bundleURL != "" {
		if err := contracts.CheckBundleURL(o.bundleURL); err != nil {
			return exitError(exitBadInput, fmt.Errorf("--bundle-url: %w", err))
		}
	}
	att, fromManifest, err := contracts.ReadPublishInput(o.path, o.bundleURL)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	client, reg, chain, err := ocSigner(ctx, &o.chain, &o.registry)
	if err != nil {
		return err
	}
	defer client.Close()
	res, err := reg.Publish(ctx, chain, att)
	if err != nil {
		return ocExit(err)
	}
	if o.json {
		return writeJSON(out, res)
	}
	if res.AlreadyPublished {
		fmt.Fprintf(out, "cycle %d was already published (attestation %s, tx %s); nothing sent\n",
			res.Cycle, res.AttestationHash.Hex(), res.TxHash.Hex())
		return nil
	}
	fmt.Fprintf(out, "published cycle %d\n  attestation %s\n  tx          %s\n  block       %d\n  gas         %d\n  bundle      %s\n",
		res.Cycle, res.AttestationHash.Hex(), res.TxHash.Hex(), res.BlockNumber, res.GasUsed, att.BundleURI)
	printBundleWhere(out, att.BundleURI, fromManifest)
	return nil
}

// printBundleWhere tells the operator what the recorded bundle address means for users.
func printBundleWhere(w io.Writer, uri string, fromManifest bool) {
	switch {
	case bundlefetch.IsRemote(uri):
		fmt.Fprintf(w, "users fetch the bundle from %s/ (it must serve manifest.json and the files it pins there; 'solvency serve' does)\n", uri)
	case strings.HasPrefix(uri, "file://") && fromManifest:
		fmt.Fprintln(w, "NOTE: the bundle is recorded as a file:// path: it can only be checked on this machine. "+
			"Serve it ('solvency serve') and publish with --bundle-url BASE so users elsewhere can fetch it.")
	}
}
