package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/treasury/engine"
	"github.com/solvency-dev/solvency/treasury/sample"
)

type demoOptions struct {
	dir     string
	users   int
	cycles  int
	fresh   bool
	provers int
	json    bool
	serve   bool   // keep serving the bundles, the page and the report after the cycles
	http    string // the address 'solvency serve' listens on for this demo
	bundle  string // the bundles' base URL recorded on chain (default http://HTTP)
	keys    string // keys directory (tests; "" makes development keys in the state)
}

const demoLong = `Runs the whole system on an embedded default, with nothing to install or start by hand:
a sample DAO endowment (60/40 ETH/stables, a stablecoin runway floor, protocol caps), 10,000
generated accounts, and three cycles on a seeded market that includes a sharp ETH drawdown and a
stablecoin depeg. Each cycle is assessed, rebalanced privately, proven (Groth16, BN254),
verified as an auditor would, and published to a registry on an in-process go-ethereum dev chain.

The treasury itself lives on that chain: ERC-20 tokens, ERC-4626 vaults for the lending venues,
Uniswap V2 pools and a Safe (2 of 3 owners sign) holding the sample's positions. Each cycle reads
the positions at one block with one multicall (that block is the statement's reserves block),
executes the rebalance as one Safe transaction, and reads them again. The perpetual venue and the
custodian have no contract and stay in the engine's state, named as off chain in the reserves
opening. The demo ends with the auditor's command that reads the reserves from the chain.

Everything is kept in --dir: the sample's files (edit them and rerun), development keys (made
once; single-party, NOT for production), the liabilities snapshot with every user's inclusion
proof, each cycle's public bundle, and the chain. A rerun resumes where the last one stopped;
--fresh starts over.

Each bundle is recorded on chain at the address 'solvency serve' serves it (http://127.0.0.1:8080
by default; --http changes the address, --bundle-url the recorded base URL). The demo ends with the
command that serves its state: the bundles, the users' verification page and the cycle report.
With --serve it keeps serving them itself after the cycles, until interrupted.`

const demoExample = `  solvency demo
  solvency demo --serve                       # then open http://127.0.0.1:8080/verify/
  solvency demo --dir /tmp/demo --users 2000 --json`

// newDemoCmd is `solvency demo`.
func newDemoCmd() *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:     "demo",
		Short:   "Run three proven, published cycles of a sample DAO treasury on an embedded chain",
		Long:    demoLong,
		Example: demoExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "solvency-demo", "directory for everything the demo makes")
	f.IntVar(&o.users, "users", 10000, "number of generated accounts")
	f.IntVar(&o.cycles, "cycles", 3, "number of cycles")
	f.BoolVar(&o.fresh, "fresh", false, "delete --dir first and start over")
	f.IntVar(&o.provers, "provers", 0, "batch proofs run at once (default: half the CPUs)")
	f.BoolVar(&o.json, "json", false, "print one JSON summary per cycle")
	f.BoolVar(&o.serve, "serve", false, "after the cycles, keep serving the bundles, the users' page and the report (as 'solvency serve' does)")
	f.StringVar(&o.http, "http", "127.0.0.1:8080", "the address the demo's state is served at (loopback)")
	f.StringVar(&o.bundle, "bundle-url", "", "the bundles' base URL recorded on chain (default: http:// and the --http address)")
	return cmd
}

func runDemo(ctx context.Context, out, errw io.Writer, o *demoOptions) error {
	start := time.Now()
	// Refused before any work: the address is where the bundles are recorded and served.
	if err := checkServeAddr(o.http, false); err != nil {
		return err
	}
	cfg, bundleURL, err := prepareDemo(o)
	if err != nil {
		return err
	}
	ctx, stop := interruptible(ctx)
	defer stop()
	state := filepath.Join(o.dir, "state")
	fmt.Fprintf(errw, "demo: %d accounts, %d cycles, state in %s\n", o.users, o.cycles, o.dir)
	t := runTarget{stateDir: state, keys: o.keys, devFeeds: true, provers: o.provers, bundleURL: bundleURL}
	// The treasury's contracts (tokens, vaults, the Safe, pools, the read aggregator) are
	// deployed on the embedded chain once and funded with the sample's positions; the cycles read
	// the reserves from them and execute through the Safe.
	var dt *engine.DevTreasury
	t.prepare = func(ctx context.Context, ch *contracts.Chain) error {
		var err error
		if dt, err = engine.DeployDevTreasury(ctx, ch, cfg, filepath.Join(state, "treasury"), demoOwners, demoThreshold); err != nil {
			return err
		}
		cfg.Onchain = dt.Onchain
		fmt.Fprintf(errw, "demo: treasury in Safe %s (%d of %d owners sign), %d tokens, %d vaults, %d pools on the embedded chain\n",
			dt.Deployment.Safe.Hex(), demoThreshold, demoOwners, len(dt.Deployment.Assets), len(dt.Deployment.Vaults), len(dt.Deployment.Pairs))
		return nil
	}
	if o.serve {
		// serve cannot open the chain's directory while this process holds it: it reads the
		// chain through the embedded chain's own JSON-RPC server instead.
		t.chainHTTP = "127.0.0.1:0"
	}
	r, err := openRun(ctx, cfg, t, errw)
	if err != nil {
		return explainDiskError(err, state)
	}
	defer r.close()
	eng, evm, name := r.eng, r.evm, r.name
	if err := eng.Run(ctx, o.cycles, func(s *engine.Summary) { printSummary(out, s, o.json) }); err != nil {
		return explainDiskError(err, state)
	}

	// One user's inclusion proof, and the commands to check it.
	proofPath, account, err := sample.WriteUserProof(eng.LiabilitiesDir(), o.dir)
	if err != nil {
		return err
	}
	if !o.json {
		printDemoEnd(out, o, bundleURL, eng.LiabilitiesDir(), evm.Addresses().Registry.Hex(), name, proofPath, account, time.Since(start))
		if err := printDemoReserves(out, o, dt); err != nil {
			return err
		}
	}
	if !o.serve {
		return nil
	}
	// The report reads the engine's state, which one process opens at a time: release it.
	r.closeEngine()
	return runServe(ctx, out, errw, &serveOptions{state: o.dir, http: o.http, rpc: r.rpc}, nil)
}

// The demo's Safe: three owners, two of whom sign (the engine holds their keys).
const (
	demoOwners    = 3
	demoThreshold = 2
)

// printDemoReserves says where the treasury is on chain and gives the auditor's command that reads
// the last cycle's reserves from the chain at its reserves block, with the off-chain venues'
// balances in a file the demo writes from its state (a real auditor has them from the venues).
func printDemoReserves(out io.Writer, o *demoOptions, dt *engine.DevTreasury) error {
	if dt == nil {
		return nil
	}
	cdir := filepath.Join(o.dir, "state", "cycles", fmt.Sprintf("%06d", o.cycles))
	opening := filepath.Join(cdir, "private", fmt.Sprintf("reserves-opening-%06d.json", o.cycles))
	op, err := bundle.ReadReservesOpening(opening)
	if err != nil {
		return err
	}
	offPath := filepath.Join(o.dir, fmt.Sprintf("offchain-balances-%06d.json", o.cycles))
	raw, err := json.MarshalIndent(engine.OffChainBalances(op), "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(offPath, append(raw, '\n'), 0o600); err != nil {
		return err
	}
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	fmt.Fprintf(out, "\nThe treasury is on chain: Safe %s, read at each cycle's reserves block with one multicall (%s).\n",
		dt.Deployment.Safe.Hex(), dt.Deployment.Multicall.Hex())
	fmt.Fprintf(out, "Check cycle %d's reserves as an auditor, against the chain, while it is served (the off-chain venues'\n", o.cycles)
	fmt.Fprintf(out, "balances, gmx's and the custodian's, are in a file the demo wrote from its state):\n")
	fmt.Fprintf(out, "  go run ./cmd/solvency verify reserves --opening %s \\\n      --bundle %s --rpc http://%s/rpc --balances %s\n",
		abs(opening), abs(filepath.Join(cdir, "bundle")), o.http, abs(offPath))
	return nil
}

// prepareDemo starts over when asked, writes the sample (with --users accounts) and reads its
// config, and settles the bundles' base URL.
func prepareDemo(o *demoOptions) (*engine.Config, string, error) {
	if o.fresh {
		if err := os.RemoveAll(o.dir); err != nil {
			return nil, "", err
		}
	}
	// The account count is the demo's flag: it is written into the demo's own copy of the config.
	cfgPath, err := sample.WriteWithAccounts(filepath.Join(o.dir, "sample"), o.users)
	if err != nil {
		return nil, "", err
	}
	cfg, err := engine.LoadConfig(cfgPath)
	if err != nil {
		return nil, "", exitError(exitBadInput, err)
	}
	bundleURL, err := demoBundleURL(o)
	if err != nil {
		return nil, "", exitError(exitBadInput, err)
	}
	return cfg, bundleURL, nil
}

// demoBundleURL is the base URL the demo records its bundles under: --bundle-url, or the
// address its state is served at (--http), which 'solvency serve' and 'demo --serve' listen on.
func demoBundleURL(o *demoOptions) (string, error) {
	u := o.bundle
	if u == "" {
		u = "http://" + o.http
	}
	if err := contracts.CheckBundleURL(u); err != nil {
		return "", fmt.Errorf("--bundle-url: %w", err)
	}
	return u, nil
}

// printDemoEnd says where everything is, and the commands that serve the demo's state and check
// one user's balance against the chain.
func printDemoEnd(out io.Writer, o *demoOptions, bundleURL, liabDir, registry, name, proofPath, account string, took time.Duration) {
	state := filepath.Join(o.dir, "state")
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return a
	}
	fmt.Fprintf(out, "\nall %d cycles proven, verified and published in %s.\n", o.cycles, took.Round(time.Second))
	fmt.Fprintf(out, "  registry          %s on %s\n", registry, name)
	fmt.Fprintf(out, "  bundles           %s (recorded on chain at %s/bundles/DIGEST)\n", abs(filepath.Join(state, "cycles")), strings.TrimRight(bundleURL, "/"))
	fmt.Fprintf(out, "  users' proofs     %s (private store; one file per user on request)\n", abs(filepath.Join(liabDir, "private")))
	fmt.Fprintf(out, "  keys              %s (development keys: single party, NOT for production)\n", abs(filepath.Join(state, "keys")))
	site := "http://" + o.http
	serveCmd := "go run ./cmd/solvency serve --state " + abs(o.dir)
	if o.http != "127.0.0.1:8080" {
		serveCmd += " --http " + o.http
	}
	if o.serve {
		fmt.Fprintf(out, "\nServing the demo's state now (Ctrl-C stops; later, the same with: %s):\n", serveCmd)
	} else {
		fmt.Fprintf(out, "\nServe the demo's state (the bundles, the users' page, the cycle report, the chain read-only):\n  %s\n", serveCmd)
	}
	fmt.Fprintf(out, "  users' page       %s/verify/   (give it %s and type %s)\n", site, abs(proofPath), account)
	fmt.Fprintf(out, "  cycle report      %s/report\n", site)
	fmt.Fprintf(out, "\nCheck that %s's balance was counted, against the chain, while it is served (the bundle\n", account)
	fmt.Fprintf(out, "named on chain is fetched and its digest checked, then verified, keys pinned from the demo's keys):\n")
	fmt.Fprintf(out, "  go run ./cmd/solvency verify inclusion --proof %s --account %s \\\n      --rpc %s/rpc --addresses %s --keys-from %s\n",
		abs(proofPath), account, site, abs(filepath.Join(state, "addresses.json")), abs(filepath.Join(state, "keys")))
}
