package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	gethlog "github.com/ethereum/go-ethereum/log"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/contracts/devnet"
)

const devnetLong = `devnet runs go-ethereum's own node in developer mode inside this process, as 'geth --dev' does:
a post-merge chain (id 1337) whose blocks the simulated beacon seals as soon as a transaction
arrives (or every --period seconds), kept in DIR across restarts, serving standard JSON-RPC over
HTTP on a loopback address only. A funded developer account's private key is kept in DIR/dev.key
(mode 0600); use it with --key for deploy and publish. Nothing else needs installing.

The chain runs Ethereum mainnet's rules (through Osaka) so gas matches what a publisher pays;
--future-forks keeps go-ethereum's full dev rule set instead. It runs until interrupted.

This is a development chain: never send anything of value to it or to its key.`

const devnetExample = `  solvency devnet --datadir .devnet --http 127.0.0.1:8545
  solvency contracts deploy --rpc http://127.0.0.1:8545 --key .devnet/dev.key --keys keys/ --assets 8 --dev-feeds`

// devnetOptions are `solvency devnet`'s flags.
type devnetOptions struct {
	dataDir     string
	httpAddr    string
	period      uint64
	keyOut      string
	futureForks bool
}

// newDevnetCmd runs the embedded go-ethereum dev chain.
func newDevnetCmd() *cobra.Command {
	o := &devnetOptions{}
	cmd := &cobra.Command{
		Use:     "devnet --datadir DIR [--http 127.0.0.1:8545]",
		Short:   "Run a local Ethereum dev chain in this process (go-ethereum, JSON-RPC on loopback)",
		Long:    devnetLong,
		Example: devnetExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := ocSignalContext(cmd.Context())
			defer stop()
			return runDevnet(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "datadir", "", "directory keeping the chain and the developer key")
	f.StringVar(&o.httpAddr, "http", "127.0.0.1:8545", "loopback host:port for JSON-RPC over HTTP (port 0 picks one)")
	f.Uint64Var(&o.period, "period", 0, "seconds between blocks; 0 seals a block per transaction")
	f.StringVar(&o.keyOut, "key-out", "", "also write the developer key to this file (0600)")
	f.BoolVar(&o.futureForks, "future-forks", false, "activate go-ethereum's unreleased dev forks too")
	return cmd
}

// runDevnet runs the dev chain until ctx ends.
func runDevnet(ctx context.Context, out, errw io.Writer, o *devnetOptions) error {
	if o.dataDir == "" {
		return exitError(exitBadInput, errors.New("--datadir DIR is required"))
	}
	// go-ethereum exits on a fatal error (a failed database write) and prints nothing by default.
	gethlog.SetDefault(gethlog.NewLogger(devnet.FatalLogHandler(os.Stderr)))
	d, err := devnet.Start(devnet.Config{DataDir: o.dataDir, HTTPAddr: o.httpAddr, Period: o.period, FutureForks: o.futureForks})
	if err != nil {
		return exitError(exitBadInput, err)
	}
	keyFile := d.KeyFile
	if o.keyOut != "" {
		// A copy for tools that expect the key elsewhere; same 0600 mode.
		if err := d.WriteKeyFile(o.keyOut); err != nil {
			d.Close()
			return exitError(exitBadInput, err)
		}
		keyFile = o.keyOut
	}
	abs, _ := filepath.Abs(keyFile)
	fmt.Fprintf(out, "dev chain %d running\n  rpc      %s\n  account  %s (funded)\n  key      %s\n  data     %s\n",
		devnet.ChainID, d.HTTPEndpoint(), d.Address.Hex(), abs, o.dataDir)
	fmt.Fprintln(errw, "press Ctrl-C to stop")
	<-ctx.Done()
	if err := d.Close(); err != nil {
		return exitError(exitBadInput, err)
	}
	fmt.Fprintln(errw, "dev chain stopped")
	return nil
}
