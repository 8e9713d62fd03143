package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/ethereum/go-ethereum/ethclient"
	gethlog "github.com/ethereum/go-ethereum/log"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/treasury/engine"
	"github.com/solvency-dev/solvency/treasury/state"
)

type runOptions struct {
	config   string
	cycles   int
	state    string
	keys     string
	rpc      string
	keyFile  string
	devFeeds bool
	provers  int
	json     bool
	// bundleURL is the base URL the bundles are served under (overrides the config's bundleUrl).
	bundleURL string
	queue     queueFlags // --workers: prove the batches on 'solvency worker' processes
	// fault is the engine's crash-test hook (engine.Options.Fault); never set from a flag.
	fault func(point string) error
}

const runLong = `Runs the treasury's cycles. Each cycle reads prices, assesses every policy limit with the
solvency circuit's native twin, plans and simulates a private rebalance, checks the policy again,
proves the liabilities batches and the solvency statement, verifies the bundle as an auditor
would, and publishes the attestation to the registry.

Every stage is recorded in the state directory before the next begins. Killed at any point and
run again with the same arguments, a run completes the interrupted cycle without a second
publish (the registry says which cycle it has) and without losing or repeating a trade. On
every start it also checks each cycle it recorded as published against the registry, and
publishes again, in order, any the chain lacks (see docs/trust-model.md, "Durability"). One run
at a time per state directory: a second waits for nothing and stops before it sends anything.

With the config's "onchain" file the reserves are the chain's: each cycle reads the positions at
on-chain venues at one block (the statement's reserves block) and executes its trades through the
treasury's Safe, signed with the owners' keys or as a Transaction Builder batch the owners sign
elsewhere (see contracts/treasurychain/README.md); venues with no contract stay in the state.

Without --rpc the cycles are published on an embedded go-ethereum dev chain kept in
STATE/chain, with settable price feeds. With --rpc any JSON-RPC endpoint works; the signing key
comes from --key FILE or $SOLVENCY_KEY, never from a flag's value.

Each bundle's address is recorded on chain beside its digest: --bundle-url BASE (or the config's
bundleUrl) records BASE/bundles/DIGEST, where 'solvency serve --state STATE' (or any static server
holding the same files) serves it, so users on other machines can fetch and check it. Without a
base URL a file:// path is recorded, which only this machine can open.`

const runExample = `  solvency run --config testdata/treasury/config.json --cycles 3
  solvency run --config my/config.json --cycles 1 --rpc http://127.0.0.1:8545 --key chain/dev.key --dev-feeds`

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:     "run --config FILE --cycles N",
		Short:   "Run treasury cycles: prices, assess, rebalance, execute, prove, verify, publish",
		Long:    runLong,
		Example: runExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "treasury config file (required)")
	f.IntVar(&o.cycles, "cycles", 1, "run until this many cycles are published")
	f.StringVar(&o.state, "state", "solvency-state", "state directory")
	f.StringVar(&o.keys, "keys", "", "keys directory (default: development keys made once in STATE/keys)")
	f.StringVar(&o.rpc, "rpc", "", "JSON-RPC endpoint (default: an embedded dev chain in STATE/chain)")
	f.StringVar(&o.keyFile, "key", "", "file holding the publisher's private key (or set $SOLVENCY_KEY)")
	f.BoolVar(&o.devFeeds, "dev-feeds", false, "with --rpc: deploy and drive settable dev price feeds")
	f.IntVar(&o.provers, "provers", 0, "batch proofs run at once (default: half the CPUs)")
	f.BoolVar(&o.json, "json", false, "print one JSON summary per cycle")
	f.StringVar(&o.bundleURL, "bundle-url", "", "https:// or http:// base URL the bundles are served under (BASE/bundles/DIGEST/, as 'solvency serve' serves them); "+
		"recorded on chain so users elsewhere can fetch them (default: the config's bundleUrl; without either, a file:// path only this machine can open)")
	addQueueFlags(cmd, &o.queue)
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// chainFor connects to an RPC endpoint or starts the embedded dev chain in dataDir (with a
// JSON-RPC server at httpAddr when given); it returns the chain, its name, the embedded chain's
// JSON-RPC URL (when it serves one) and the function that stops it.
func chainFor(ctx context.Context, rpc, keyFile, dataDir string, httpAddr string) (*contracts.Chain, string, string, func(), error) {
	if rpc != "" {
		key, err := contracts.LoadKey(keyFile)
		if err != nil {
			return nil, "", "", nil, exitError(exitBadInput, err)
		}
		cl, err := ethclient.DialContext(ctx, rpc)
		if err != nil {
			return nil, "", "", nil, redactErr(fmt.Errorf("connect to %s: %w", redactURL(rpc), err), rpc)
		}
		c, err := contracts.NewChain(ctx, cl, key)
		if err != nil {
			cl.Close()
			return nil, "", "", nil, redactErr(err, rpc)
		}
		return c, redactURL(rpc), "", cl.Close, nil
	}
	// go-ethereum exits on a fatal error (a failed database write) and prints nothing by default.
	gethlog.SetDefault(gethlog.NewLogger(devnet.FatalLogHandler(os.Stderr)))
	d, err := devnet.Start(devnet.Config{DataDir: dataDir, HTTPAddr: httpAddr})
	if err != nil {
		return nil, "", "", nil, fmt.Errorf("start embedded dev chain: %w", err)
	}
	c, err := contracts.NewChain(ctx, d.Client(), d.Key)
	if err != nil {
		d.Close()
		return nil, "", "", nil, err
	}
	name, endpoint := "embedded dev chain ("+dataDir+")", ""
	if httpAddr != "" {
		endpoint = d.HTTPEndpoint()
		name = "embedded dev chain at " + endpoint
	}
	return c, name, endpoint, func() { d.Close() }, nil
}

// interruptible cancels ctx on Ctrl-C or SIGTERM, so a run stops between steps and resumes.
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// runTarget is what openRun opens.
type runTarget struct {
	stateDir, keys, rpc, keyFile string
	devFeeds                     bool
	provers                      int
	bundleURL                    string      // base URL recorded for the bundles ("" : file://)
	chainHTTP                    string      // the embedded chain's JSON-RPC address ("" : none)
	queue                        *queueFlags // --workers ("" : prove in this process)
	stderr                       io.Writer
	fault                        func(point string) error // crash tests only (engine.Options.Fault)
	// prepare, when set, runs once the chain is up and before the engine opens (the demo
	// deploys the treasury's contracts there).
	prepare func(ctx context.Context, ch *contracts.Chain) error
}

// openedRun is an open engine, its chain, and how to close both.
type openedRun struct {
	eng  *engine.Engine
	evm  *engine.EVMChain
	name string
	rpc  string // the embedded chain's JSON-RPC URL, when runTarget.chainHTTP asked for one
	// closeEngine releases the engine's state (so that a reader such as the report can open it)
	// and leaves the chain running; close closes both. Each runs once.
	closeEngine func()
	close       func()
}

// openRun opens a run's state and chain in the order crash safety needs: the state directory
// checked writable and locked first (a second run on the same state stops there, before it
// starts a chain or sends a transaction), then the chain, then the engine, which reads every
// input before it makes a key or deploys a contract.
func openRun(ctx context.Context, cfg *engine.Config, t runTarget, log io.Writer) (*openedRun, error) {
	if err := engine.PrepareStateDir(t.stateDir); err != nil {
		return nil, exitError(exitBadInput, err)
	}
	st, err := state.Open(filepath.Join(t.stateDir, "state"))
	if err != nil {
		return nil, err
	}
	ch, name, endpoint, closeChain, err := chainFor(ctx, t.rpc, t.keyFile, filepath.Join(t.stateDir, "chain"), t.chainHTTP)
	if err != nil {
		st.Close()
		return nil, err
	}
	if t.prepare != nil {
		if err := t.prepare(ctx, ch); err != nil {
			closeChain()
			st.Close()
			return nil, err
		}
	}
	bundleURL := t.bundleURL
	if bundleURL == "" {
		bundleURL = cfg.BundleURL
	}
	evm := &engine.EVMChain{Chain: ch, AddrFile: filepath.Join(t.stateDir, "addresses.json"), DevFeeds: t.devFeeds || t.rpc == "",
		Name: name, Embedded: t.rpc == "", BundleURL: bundleURL, Fault: t.fault}
	eng, err := engine.Open(ctx, cfg, engine.Options{StateDir: t.stateDir, Keys: t.keys, Chain: evm, Log: log, Provers: t.provers, Store: st,
		Batches: t.batchBackend(), Fault: t.fault})
	if err != nil {
		closeChain()
		return nil, err
	}
	var once sync.Once
	closeEngine := func() { once.Do(func() { eng.Close() }) }
	return &openedRun{eng: eng, evm: evm, name: name, rpc: endpoint, closeEngine: closeEngine,
		close: func() { closeEngine(); closeChain() }}, nil
}

// batchBackend is the engine's batch prover for --workers: a coordinator handing the batches
// to 'solvency worker' processes through NATS JetStream; nil (no --workers) proves in process.
func (t runTarget) batchBackend() func(*keys.Keys) (prover.BatchBackend, func(), error) {
	if t.queue == nil || t.queue.url == "" {
		return nil
	}
	return func(k *keys.Keys) (prover.BatchBackend, func(), error) {
		tmp := filepath.Join(t.stateDir, "tmp")
		if err := os.MkdirAll(tmp, 0o700); err != nil {
			return nil, nil, err
		}
		stderr := t.stderr
		if stderr == nil {
			stderr = io.Discard
		}
		coord, _, closeConn, err := queueBackend(t.queue, k, tmp, false, stderr)
		if err != nil {
			return nil, nil, err
		}
		return coord, closeConn, nil
	}
}

// redactURL names an RPC endpoint without its credentials: providers put the API key in the
// path or the query (and some in the user info), so only the scheme and host are shown.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the RPC endpoint"
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		out += "/(path and query hidden)"
	}
	return out
}

// redactedError hides an RPC URL's credentials in an error's text (Go's HTTP client quotes
// the whole URL in its errors) and keeps the error chain for errors.Is.
type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }

// redactErr rewrites err's text so that neither rpc nor its path and query appear in it.
func redactErr(err error, rpc string) error {
	if err == nil || rpc == "" {
		return err
	}
	msg := err.Error()
	secrets := []string{rpc}
	if u, perr := url.Parse(rpc); perr == nil {
		if u.User != nil {
			secrets = append(secrets, u.User.String())
		}
		if u.Path != "" && u.Path != "/" {
			secrets = append(secrets, u.Path, u.EscapedPath())
		}
		if u.RawQuery != "" {
			secrets = append(secrets, u.RawQuery)
		}
	}
	changed := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, redactURL(rpc))
			changed = true
		}
	}
	if !changed {
		return err
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		return &exitErr{code: ee.code, err: &redactedError{msg: msg, err: err}}
	}
	return &redactedError{msg: msg, err: err}
}

// explainDiskError says plainly what a full disk means for a run: nothing recorded is lost, and
// the same command resumes once there is space.
func explainDiskError(err error, stateDir string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("the disk holding %s is full: free some space and run the same command again; "+
			"every step recorded so far is kept, and the run resumes where it stopped (%w)", stateDir, err)
	}
	return err
}

func printSummary(out io.Writer, s *engine.Summary, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(s)
		fmt.Fprintln(out, string(b))
		return
	}
	fmt.Fprintf(out, "cycle %d  %s\n", s.Cycle, s.Stage)
	fmt.Fprintf(out, "  collateral ratio  %s\n", orDash(s.CollateralRatio))
	fmt.Fprintf(out, "  value-at-risk     %s\n", orDash(s.VaR))
	fmt.Fprintf(out, "  worst stress      surplus %s (the scenario that hurts most)\n", orDash(s.WorstStress))
	fmt.Fprintf(out, "  trades            %d\n", s.Trades)
	for _, r := range s.Reasons {
		fmt.Fprintf(out, "    why             %s\n", r)
	}
	for _, t := range s.TradeList {
		fmt.Fprintf(out, "    trade           %s\n", t)
	}
	for _, b := range s.Binding {
		fmt.Fprintf(out, "  BINDING           %s\n", b)
	}
	printGreeks(out, s.Greeks)
	if s.ProveSeconds > 0 {
		fmt.Fprintf(out, "  proving           %.1fs\n", s.ProveSeconds)
	}
	if s.Published {
		if s.Tx != "" {
			fmt.Fprintf(out, "  published         tx %s (block %d, %d gas)\n", s.Tx, s.Block, s.GasUsed)
		} else {
			fmt.Fprintf(out, "  published         (already on chain)\n")
		}
	}
	if s.Bundle != "" {
		fmt.Fprintf(out, "  bundle            %s\n", s.Bundle)
	}
	if s.SafeBatch != "" {
		fmt.Fprintf(out, "  safe batch        %s\n", s.SafeBatch)
	}
}

// printGreeks prints a cycle's net Greeks per underlying, before and after its plan (the
// engine's model figures: the proof values options and pool shares by its own rules).
func printGreeks(out io.Writer, g *engine.GreeksSummary) {
	if g == nil {
		return
	}
	before := map[string]engine.GreekLine{}
	for _, l := range g.Before {
		before[l.Underlying] = l
	}
	for _, l := range g.After {
		band := ""
		if l.BandUSD > 0 {
			band = fmt.Sprintf(", band ±$%.0f", l.BandUSD)
			if !l.InBand {
				band += " OUTSIDE"
			}
		}
		was := ""
		if b, ok := before[l.Underlying]; ok && b.Delta != l.Delta {
			was = fmt.Sprintf(" (was %.2f, $%.0f)", b.Delta, b.DeltaUSD)
		}
		fmt.Fprintf(out, "  greeks %-10s delta %.2f ($%.0f%s)%s\n", l.Underlying, l.Delta, l.DeltaUSD, band, was)
		fmt.Fprintf(out, "                    cash gamma $%.0f per 1%%, vega $%.0f per vol point, theta $%.0f a day\n",
			l.CashGamma, l.VegaPerPoint, l.ThetaPerDay)
	}
	for _, b := range g.Binding {
		fmt.Fprintf(out, "  GREEK LIMIT       %s: no allowed trade restores it\n", b)
	}
	printRiskFigures(out, "  ", g.Risk)
}

// printRiskFigures prints the delta-gamma VaR and the stress grid's worst scenario (the
// engine's model; the proof checks the policy's parametric VaR).
func printRiskFigures(out io.Writer, indent string, r *engine.RiskFigures) {
	if r == nil {
		return
	}
	if r.CornishFisherVaR != "" {
		fmt.Fprintf(out, "%sdelta-gamma VaR   $%s Cornish-Fisher, $%s normal (%.2f%%, %g day, %s covariance)\n", indent,
			r.CornishFisherVaR, r.DeltaGammaNormalVaR, r.Confidence*100, r.HorizonDays, r.CovarianceSource)
	}
	if r.WorstStressScenario != "" {
		fmt.Fprintf(out, "%sworst revaluation $%s at %s (%s)\n", indent, r.WorstStressPnL, r.WorstStressScenario, strings.Join(r.StressAssets, ", "))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runRun(ctx context.Context, out, errw io.Writer, o *runOptions) error {
	cfg, err := engine.LoadConfig(o.config)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	ctx, stop := interruptible(ctx)
	defer stop()
	if o.bundleURL != "" {
		if err := contracts.CheckBundleURL(o.bundleURL); err != nil {
			return exitError(exitBadInput, fmt.Errorf("--bundle-url: %w", err))
		}
	}
	r, err := openRun(ctx, cfg, runTarget{stateDir: o.state, keys: o.keys, rpc: o.rpc, keyFile: o.keyFile, devFeeds: o.devFeeds,
		provers: o.provers, bundleURL: o.bundleURL, queue: &o.queue, stderr: errw, fault: o.fault}, errw)
	if err != nil {
		return redactErr(explainDiskError(err, o.state), o.rpc)
	}
	defer r.close()
	eng := r.eng
	if eng.Keys().Meta.Trust != "ceremony" {
		fmt.Fprintln(errw, "NOTE: keys are", eng.Keys().Meta.Trust+": not fit for production.")
	}
	if r.evm.BundleURL == "" {
		fmt.Fprintf(errw, "NOTE: no --bundle-url: the bundles are recorded on chain as file:// paths on this machine; "+
			"only this machine can check them (serve them with 'solvency serve --state %s' and give its address with --bundle-url)\n", o.state)
	} else {
		fmt.Fprintf(errw, "bundles are recorded at %s/bundles/DIGEST; serve them there ('solvency serve --state %s' serves that path)\n",
			strings.TrimRight(r.evm.BundleURL, "/"), o.state)
	}
	err = eng.Run(ctx, o.cycles, func(s *engine.Summary) { printSummary(out, s, o.json) })
	var le *prover.LimitsError
	switch {
	case errors.Is(err, engine.ErrBinding), errors.As(err, &le):
		return exitError(exitInvalid, err)
	case errors.Is(err, context.Canceled):
		return exitError(exitInvalid, fmt.Errorf("interrupted; run the same command again to resume: %w", err))
	}
	return redactErr(explainDiskError(err, o.state), o.rpc)
}
