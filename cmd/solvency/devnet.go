package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	gethlog "github.com/ethereum/go-ethereum/log"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/internal/atomicfile"
)

// newDevnetCmd runs the embedded go-ethereum dev chain.
func newDevnetCmd() *cobra.Command {
	var (
		dataDir     string
		httpAddr    string
		period      uint64
		keyOut      string
		futureForks bool
	)
	cmd := &cobra.Command{
		Use:   "devnet --datadir DIR [--http 127.0.0.1:8545]",
		Short: "Run a local Ethereum dev chain in this process (go-ethereum, JSON-RPC on loopback)",
		Long: `devnet runs go-ethereum's own node in developer mode inside this process, as 'geth --dev' does:
a post-merge chain (id 1337) whose blocks the simulated beacon seals as soon as a transaction
arrives (or every --period seconds), kept in DIR across restarts, serving standard JSON-RPC over
HTTP on a loopback address only. A funded developer account's private key is kept in DIR/dev.key
(mode 0600); use it with --key for deploy and publish. Nothing else needs installing.

The chain runs Ethereum mainnet's rules (through Osaka) so gas matches what a publisher pays;
--future-forks keeps go-ethereum's full dev rule set instead. It runs until interrupted.

This is a development chain: never send anything of value to it or to its key.`,
		Example: `  solvency devnet --datadir .devnet --http 127.0.0.1:8545
  solvency contracts deploy --rpc http://127.0.0.1:8545 --key .devnet/dev.key --keys keys/ --assets 8 --dev-feeds`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" {
				return exitError(exitBadInput, errors.New("--datadir DIR is required"))
			}
			ctx, stop := ocSignalContext(cmd.Context())
			defer stop()
			// go-ethereum exits on a fatal error (a failed database write) and prints nothing by default.
			gethlog.SetDefault(gethlog.NewLogger(devnet.FatalLogHandler(os.Stderr)))
			d, err := devnet.Start(devnet.Config{DataDir: dataDir, HTTPAddr: httpAddr, Period: period, FutureForks: futureForks})
			if err != nil {
				return exitError(exitBadInput, err)
			}
			keyFile := d.KeyFile
			if keyOut != "" {
				// A copy for tools that expect the key elsewhere; same 0600 mode.
				raw := fmt.Sprintf("%x\n", d.Key.D.FillBytes(make([]byte, 32)))
				if err := atomicfile.WriteFile(keyOut, []byte(raw), 0o600); err != nil {
					d.Close()
					return exitError(exitBadInput, err)
				}
				keyFile = keyOut
			}
			abs, _ := filepath.Abs(keyFile)
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "dev chain %d running\n  rpc      %s\n  account  %s (funded)\n  key      %s\n  data     %s\n",
				devnet.ChainID, d.HTTPEndpoint(), d.Address.Hex(), abs, dataDir)
			fmt.Fprintln(cmd.ErrOrStderr(), "press Ctrl-C to stop")
			<-ctx.Done()
			if err := d.Close(); err != nil {
				return exitError(exitBadInput, err)
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "dev chain stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "datadir", "", "directory keeping the chain and the developer key")
	f.StringVar(&httpAddr, "http", "127.0.0.1:8545", "loopback host:port for JSON-RPC over HTTP (port 0 picks one)")
	f.Uint64Var(&period, "period", 0, "seconds between blocks; 0 seals a block per transaction")
	f.StringVar(&keyOut, "key-out", "", "also write the developer key to this file (0600)")
	f.BoolVar(&futureForks, "future-forks", false, "activate go-ethereum's unreleased dev forks too")
	return cmd
}
