package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/keystore"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
)

// solvencyVKFileName is the solvency verifying key's name inside a keys directory (--keys DIR).
const solvencyVKFileName = "solvency.vk"

// newContractsCmd groups exporting, deploying and operating the on-chain contracts.
func newContractsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contracts",
		Short: "Export, compile and deploy the verifier and the attestation registry",
		Long: `contracts exports gnark's Solidity verifier for the solvency circuit's verifying key,
compiles it with the Solidity compiler pinned in contracts/package-lock.json (install it with
scripts/setup.sh), and deploys the verifier, the attestation registry and, on a dev chain,
settable price feeds.

Signing keys come from a file (--key FILE, 64 hex digits) or from $SOLVENCY_KEY, never from a flag.`,
	}
	cmd.AddCommand(newContractsExportCmd(), newContractsDeployCmd(), newContractsCheckCmd(),
		newContractsSetPriceCmd(), newContractsSetPolicyCmd(), newContractsFeedsCmd(),
		newContractsChangeCmd(), newContractsCountersignCmd())
	return cmd
}

// ocVKOptions selects the solvency verifying key: --vk FILE or --keys DIR (DIR/solvency.vk).
type ocVKOptions struct {
	vkFile  string
	keysDir string
	assets  int
}

func (o *ocVKOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.vkFile, "vk", "", "the solvency circuit's verifying key file (gnark binary)")
	cmd.Flags().StringVar(&o.keysDir, "keys", "", "a keys directory; its "+solvencyVKFileName+" is used")
	cmd.Flags().IntVar(&o.assets, "assets", 0, "number of assets of the solvency circuit (required)")
}

func (o *ocVKOptions) path() (string, error) {
	switch {
	case o.vkFile != "" && o.keysDir != "":
		return "", errors.New("give --vk or --keys, not both")
	case o.vkFile != "":
		return o.vkFile, nil
	case o.keysDir != "":
		return filepath.Join(o.keysDir, solvencyVKFileName), nil
	}
	return "", errors.New("give the verifying key with --vk FILE or --keys DIR")
}

// compile reads the key and compiles its verifier.
func (o *ocVKOptions) compile(ctx context.Context) (string, *contracts.Artifact, error) {
	path, err := o.path()
	if err != nil {
		return "", nil, exitError(exitBadInput, err)
	}
	if _, err := contracts.NumPublicInputs(o.assets); err != nil {
		return "", nil, exitError(exitBadInput, fmt.Errorf("--assets: %w", err))
	}
	vk, err := contracts.ReadVerifyingKey(path)
	if err != nil {
		return "", nil, exitError(exitBadInput, err)
	}
	src, art, err := contracts.CompileVerifier(ctx, vk, o.assets)
	if err != nil {
		return "", nil, exitError(exitBadInput, err)
	}
	return src, art, nil
}

// contractsExportOptions are the flags of `contracts export`.
type contractsExportOptions struct {
	vk      ocVKOptions
	out     string
	replace bool
	json    bool
}

func newContractsExportCmd() *cobra.Command {
	o := &contractsExportOptions{}
	cmd := &cobra.Command{
		Use:   "export (--vk FILE | --keys DIR) --assets N --out DIR",
		Short: "Write the Solidity verifier for a verifying key, compiled, with the registry's artifacts",
		Long: `export writes into DIR (built in a temporary sibling and renamed into place):

  Verifier.sol            gnark's generated Groth16 verifier for the key (no commitments)
  Verifier.json           its ABI, creation and runtime bytecode (solc pinned by package-lock.json)
  SolvencyRegistry.json   the registry's ABI and bytecode (key-independent, as committed)
  DevPriceFeed.json       the dev price feed's ABI and bytecode

An auditor compares Verifier.json's deployedBytecode with the code at the registry's verifier
address.`,
		Example: `  solvency contracts export --keys keys/ --assets 8 --out build/contracts
  solvency contracts export --vk keys/solvency.vk --assets 8 --out build/contracts --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runContractsExport(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.vk.register(cmd)
	cmd.Flags().StringVar(&o.out, "out", "", "output directory")
	cmd.Flags().BoolVar(&o.replace, "force", false, "replace an existing output directory")
	jsonFlag(cmd, &o.json)
	return cmd
}

// exportedFiles are the files `contracts export` writes, in the order it lists them.
var exportedFiles = []string{"Verifier.sol", "Verifier.json", "SolvencyRegistry.json", "DevPriceFeed.json"}

// contractsExportDoc is the --json document of `contracts export`.
type contractsExportDoc struct {
	Out      string   `json:"out"`
	Compiler string   `json:"compiler"`
	Files    []string `json:"files"`
}

func runContractsExport(ctx context.Context, o *contractsExportOptions, stdout io.Writer) error {
	if o.out == "" {
		return exitError(exitBadInput, errors.New("--out DIR is required"))
	}
	if err := refuseExisting(o.out, o.replace, "--force"); err != nil {
		return err
	}
	src, art, err := o.vk.compile(ctx)
	if err != nil {
		return err
	}
	reg, err := contracts.RegistryArtifact()
	if err != nil {
		return err
	}
	feed, err := contracts.DevFeedArtifact()
	if err != nil {
		return err
	}
	arts := map[string]*contracts.Artifact{"Verifier": art, "SolvencyRegistry": reg, "DevPriceFeed": feed}
	err = atomicfile.Dir(o.out, o.replace, func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, "Verifier.sol"), []byte(src), 0o644); err != nil {
			return err
		}
		for name, a := range arts {
			raw, err := json.MarshalIndent(a, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(tmp, name+".json"), append(raw, '\n'), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return exitError(exitBadInput, fmt.Errorf("export: %w", err))
	}
	if o.json {
		return printDocument(stdout, true, contractsExportDoc{Out: o.out, Compiler: art.Compiler, Files: exportedFiles})
	}
	fmt.Fprintf(stdout, "wrote verifier and artifacts to %s (solc %s)\n", o.out, art.Compiler)
	return nil
}

// ocChainOptions are the flags that reach a chain.
type ocChainOptions struct {
	rpc          string
	keyFile      string
	keystore     string
	passwordFile string
}

func (o *ocChainOptions) register(cmd *cobra.Command, withKey bool) {
	cmd.Flags().StringVar(&o.rpc, "rpc", "http://127.0.0.1:8545", "JSON-RPC endpoint")
	if withKey {
		cmd.Flags().StringVar(&o.keyFile, "key", "", "file holding the signing key (64 hex digits); default $"+contracts.EnvKey)
		cmd.Flags().StringVar(&o.keystore, "keystore", "", "go-ethereum encrypted keystore file holding the signing key (instead of --key); "+
			"password from --password-file, $"+keystore.EnvPassword+", or asked on the terminal")
		cmd.Flags().StringVar(&o.passwordFile, "password-file", "", "file whose first line is the --keystore password")
	}
}

func (o *ocChainOptions) dial(ctx context.Context) (*ethclient.Client, error) {
	client, err := ethclient.DialContext(ctx, o.rpc)
	if err != nil {
		return nil, exitError(exitBadInput, fmt.Errorf("connect to %s: %w", o.rpc, err))
	}
	return client, nil
}

func (o *ocChainOptions) chain(ctx context.Context, client *ethclient.Client) (*contracts.Chain, error) {
	key, err := keystore.Load(keystore.Source{Role: "signing", KeyFile: o.keyFile, Keystore: o.keystore,
		PasswordFile: o.passwordFile, PasswordEnv: keystore.EnvPassword, EnvKey: contracts.EnvKey,
		Prompt: keystore.TerminalPrompt(os.Stdin, os.Stderr)})
	if err != nil {
		return nil, exitError(exitBadInput, err)
	}
	c, err := contracts.NewChain(ctx, client, key.Private)
	if err != nil {
		return nil, exitError(exitBadInput, fmt.Errorf("%s: %w", o.rpc, err))
	}
	return c, nil
}

// ocExit maps an on-chain failure to an exit code: a contract refusing (a revert, a conflicting
// cycle) is a failed check (1); anything else is unusable input or environment (2).
func ocExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		return err
	}
	var re *contracts.RevertError
	var te *contracts.TxError
	if errors.As(err, &re) || errors.As(err, &te) || errors.Is(err, contracts.ErrCycleConflict) ||
		errors.Is(err, contracts.ErrRoundSuperseded) {
		return exitError(exitInvalid, err)
	}
	return exitError(exitBadInput, err)
}

// ocPrintJSON prints v as indented JSON, as it did before the output convention; publish.go still
// calls it until its documents follow printDocument.
func ocPrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ocSignalContext is cancelled on SIGINT or SIGTERM.
func ocSignalContext(parent context.Context) (context.Context, context.CancelFunc) {
	if parent == nil {
		parent = context.Background()
	}
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

// contractsDeployOptions are the flags of `contracts deploy`.
type contractsDeployOptions struct {
	vk          ocVKOptions
	chain       ocChainOptions
	verifierArt string
	devFeeds    bool
	feeds       []string
	heartbeats  []string
	devDecimals int
	heartbeat   time.Duration
	delay       time.Duration
	maxAge      uint64
	governance  string
	prover      string
	auditors    []string
	policyHash  string
	out         string
	replace     bool
	json        bool
}

func newContractsDeployCmd() *cobra.Command {
	o := &contractsDeployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy --rpc URL --key FILE (--vk FILE | --keys DIR | --verifier FILE) --assets N (--dev-feeds | --feeds ...) --out FILE",
		Short: "Deploy the verifier, the registry and (on a dev chain) price feeds; write the addresses file",
		Long: `deploy compiles the verifier for the solvency verifying key (or takes a Verifier.json
written by 'contracts export'), deploys it, deploys one settable DevPriceFeed per asset when
--dev-feeds is given (dev chains only; otherwise name existing Chainlink feeds with --feeds and
--heartbeats, one per asset in the asset table's order), then the registry, and writes the
addresses file that publish and attestations read.

The addresses file is the deployment's record: deploy refuses to overwrite an existing one
unless --replace is given, so that a second deployment does not silently orphan the first.

The deployer becomes governance and prover unless --governance/--prover say otherwise; --auditors
names the addresses allowed to countersign cycles. What is given here is in force at once; every
later change of the policy, the prover, the auditors, the feeds or governance is announced and
applies only --delay later (docs/governance.md). --delay 0s makes changes apply at once: for
development chains only ('contracts check' warns about it).

The policy hash binds the chain id and the registry address, so it is usually set after
deployment with 'contracts set-policy' (at once, only while no policy is in force);
--policy-hash puts it in force at deployment when it is already known.`,
		Example: `  solvency contracts deploy --rpc http://127.0.0.1:8545 --key devnet/dev.key \
      --keys keys/ --assets 8 --dev-feeds --out addresses.json
  SOLVENCY_KEY=$(cat deployer.key) solvency contracts deploy --rpc $RPC --verifier build/contracts/Verifier.json \
      --assets 2 --feeds 0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c,0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419 \
      --heartbeats 3600,3600 --delay 48h --auditors 0x1234...,0x5678... --out addresses.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := ocSignalContext(cmd.Context())
			defer stop()
			return runContractsDeploy(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.register(cmd)
	return cmd
}

func (o *contractsDeployOptions) register(cmd *cobra.Command) {
	o.vk.register(cmd)
	o.chain.register(cmd, true)
	f := cmd.Flags()
	f.StringVar(&o.verifierArt, "verifier", "", "a compiled Verifier.json from 'contracts export' instead of a key")
	f.BoolVar(&o.devFeeds, "dev-feeds", false, "deploy one settable DevPriceFeed per asset (dev chains only)")
	f.StringSliceVar(&o.feeds, "feeds", nil, "existing Chainlink feed addresses, one per asset, comma-separated")
	f.StringSliceVar(&o.heartbeats, "heartbeats", nil, "each feed's heartbeat in seconds, comma-separated")
	f.IntVar(&o.devDecimals, "dev-decimals", 8, "decimals of the dev feeds")
	f.DurationVar(&o.heartbeat, "heartbeat", time.Hour, "heartbeat of the dev feeds (at most 7 days)")
	f.DurationVar(&o.delay, "delay", 48*time.Hour,
		fmt.Sprintf("governance delay: every later change waits this long after it is announced, in [0s, %s]", contracts.MaxDelay))
	f.DurationVar(&o.delay, "feed-delay", 48*time.Hour, "old name of --delay")
	_ = f.MarkDeprecated("feed-delay", "use --delay: the delay now covers every governance power")
	f.Uint64Var(&o.maxAge, "max-reserves-age", contracts.DefaultMaxReservesAge,
		fmt.Sprintf("most blocks a statement's reserves block may lie behind the recording block, in [1, %d]", contracts.MaxReservesAgeLimit))
	f.StringVar(&o.governance, "governance", "", "governance address (default: the deployer)")
	f.StringVar(&o.prover, "prover", "", "prover address (default: the deployer)")
	f.StringSliceVar(&o.auditors, "auditors", nil, "auditor addresses allowed to countersign cycles, comma-separated")
	f.StringVar(&o.policyHash, "policy-hash", "", "policy hash in force from deployment (0x + 64 hex digits)")
	f.StringVar(&o.out, "out", "addresses.json", "addresses file to write")
	f.BoolVar(&o.replace, "replace", false, "overwrite an existing addresses file (the earlier deployment's record is lost)")
	jsonFlag(cmd, &o.json)
}

// refuseExisting refuses to overwrite path unless the user said so with flag (none: the command
// never overwrites): the next step is in the message. Commands call it before their long work.
func refuseExisting(path string, replace bool, flag string) error {
	if replace {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		if flag == "" {
			return exitError(exitBadInput, fmt.Errorf("%s already exists; choose another path, or remove it", path))
		}
		return exitError(exitBadInput, fmt.Errorf("%s already exists; give %s to overwrite it, or choose another path", path, flag))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return exitError(exitBadInput, err)
	}
	return nil
}

func runContractsDeploy(ctx context.Context, o *contractsDeployOptions, stdout, stderr io.Writer) error {
	if o.out == "" {
		return exitError(exitBadInput, errors.New("--out FILE is required"))
	}
	// Checked before anything is compiled or sent: a deployment costs gas and time.
	if _, err := os.Lstat(o.out); err == nil && !o.replace {
		return exitError(exitBadInput, fmt.Errorf("%s already holds a deployment record; give --replace to overwrite it "+
			"(the registry it names is then forgotten), or choose another --out", o.out))
	}
	cfg, err := o.config(ctx)
	if err != nil {
		return err
	}
	client, err := o.chain.dial(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	chain, err := o.chain.chain(ctx, client)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "deploying to chain %s from %s\n", chain.ChainID, chain.From().Hex())
	if cfg.ZeroDelay {
		fmt.Fprintln(stderr, "WARNING: --delay 0s: governance changes will apply at once, with no time for users or auditors to react (development only)")
	}
	addrs, err := contracts.Deploy(ctx, chain, cfg)
	if addrs != nil {
		if werr := contracts.WriteAddresses(o.out, addrs); werr != nil {
			return exitError(exitBadInput, errors.Join(err, werr))
		}
	}
	if err != nil {
		return ocExit(err)
	}
	if o.json {
		return printDocument(stdout, true, newDeploymentDoc(o.out, addrs))
	}
	printDeployment(stdout, o.out, addrs)
	return nil
}

// config checks the flags and builds the deployment's configuration.
func (o *contractsDeployOptions) config(ctx context.Context) (contracts.DeployConfig, error) {
	var cfg contracts.DeployConfig
	if _, err := contracts.NumPublicInputs(o.vk.assets); err != nil {
		return cfg, exitError(exitBadInput, fmt.Errorf("--assets: %w", err))
	}
	if err := contracts.CheckDelay(o.delay); err != nil {
		return cfg, exitError(exitBadInput, fmt.Errorf("--delay: %w", err))
	}
	if err := contracts.CheckMaxReservesAge(o.maxAge); err != nil {
		return cfg, exitError(exitBadInput, fmt.Errorf("--max-reserves-age: %w", err))
	}
	cfg = contracts.DeployConfig{NumAssets: o.vk.assets, Delay: o.delay, ZeroDelay: o.delay == 0, MaxReservesAge: o.maxAge}
	var err error
	if cfg.Verifier, err = o.verifier(ctx); err != nil {
		return cfg, err
	}
	if err := o.feedConfig(&cfg); err != nil {
		return cfg, err
	}
	if err := o.roles(&cfg); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// verifier reads --verifier or compiles the verifier for the key.
func (o *contractsDeployOptions) verifier(ctx context.Context) (*contracts.Artifact, error) {
	if o.verifierArt == "" {
		_, art, err := o.vk.compile(ctx)
		return art, err
	}
	if o.vk.vkFile != "" || o.vk.keysDir != "" {
		return nil, exitError(exitBadInput, errors.New("give --verifier or a verifying key, not both"))
	}
	raw, err := boundedfile.ReadFile(o.verifierArt, boundedfile.Config)
	if err != nil {
		return nil, exitError(exitBadInput, err)
	}
	var a contracts.Artifact
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, exitError(exitBadInput, fmt.Errorf("%s: %w", o.verifierArt, err))
	}
	return &a, nil
}

// feedConfig fills the dev feeds or the existing feeds.
func (o *contractsDeployOptions) feedConfig(cfg *contracts.DeployConfig) error {
	switch {
	case o.devFeeds && len(o.feeds) > 0:
		return exitError(exitBadInput, errors.New("give --dev-feeds or --feeds, not both"))
	case o.devFeeds:
		maxHB := time.Duration(contracts.MaxHeartbeat) * time.Second
		if o.heartbeat <= 0 || o.heartbeat%time.Second != 0 || o.heartbeat > maxHB {
			return exitError(exitBadInput, fmt.Errorf("--heartbeat must be whole seconds in [1s, %s]", maxHB))
		}
		if o.devDecimals < 0 || o.devDecimals > contracts.MaxFeedDecimals {
			return exitError(exitBadInput, fmt.Errorf("--dev-decimals must be in [0, %d]", contracts.MaxFeedDecimals))
		}
		for i := 0; i < o.vk.assets; i++ {
			one := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(o.devDecimals)), nil)
			cfg.DevFeeds = append(cfg.DevFeeds, contracts.DevFeedSpec{
				Description: fmt.Sprintf("ASSET%d / USD (dev)", i), Decimals: uint8(o.devDecimals),
				Answer: one, Heartbeat: uint32(o.heartbeat / time.Second)})
		}
	case len(o.feeds) > 0:
		fcs, err := ocParseFeeds(o.feeds, o.heartbeats)
		if err != nil {
			return err
		}
		cfg.Feeds = fcs
	default:
		return exitError(exitBadInput, errors.New("give --dev-feeds, or --feeds and --heartbeats"))
	}
	return nil
}

// roles fills governance, prover and the policy hash from their flags.
func (o *contractsDeployOptions) roles(cfg *contracts.DeployConfig) error {
	for _, a := range []struct {
		flag, value string
		dst         *common.Address
	}{{"--governance", o.governance, &cfg.Governance}, {"--prover", o.prover, &cfg.Prover}} {
		if a.value == "" {
			continue
		}
		if !common.IsHexAddress(a.value) {
			return exitError(exitBadInput, fmt.Errorf("%s: %q is not an address", a.flag, a.value))
		}
		*a.dst = common.HexToAddress(a.value)
	}
	auditors, err := parseAddressList("--auditors", o.auditors)
	if err != nil {
		return err
	}
	cfg.Auditors = auditors
	if o.policyHash != "" {
		e, err := poseidon.ParseHex(o.policyHash)
		if err != nil {
			return exitError(exitBadInput, fmt.Errorf("--policy-hash: %w", err))
		}
		cfg.PolicyHash = &e
	}
	return nil
}

// deploymentDoc is the --json document of `contracts deploy`: the addresses file's content in
// the CLI's convention (the file itself keeps its own, versioned format).
type deploymentDoc struct {
	Out                  string         `json:"out"`
	ChainID              string         `json:"chain_id"`
	Registry             common.Address `json:"registry"`
	Verifier             common.Address `json:"verifier"`
	VerifierCodeHash     common.Hash    `json:"verifier_code_hash"`
	DeployBlock          string         `json:"deploy_block"`
	NumAssets            int            `json:"num_assets"`
	Governance           common.Address `json:"governance"`
	Prover               common.Address `json:"prover"`
	DelaySeconds         string         `json:"delay_seconds"`
	MaxReservesAgeBlocks string         `json:"max_reserves_age_blocks"`
	Feeds                []feedDoc      `json:"feeds"`
}

// feedDoc is one asset slot's price feed.
type feedDoc struct {
	Asset            int            `json:"asset"`
	Aggregator       common.Address `json:"aggregator"`
	HeartbeatSeconds uint32         `json:"heartbeat_seconds"`
	Dev              bool           `json:"dev"`
	Description      string         `json:"description,omitempty"`
	Decimals         uint8          `json:"decimals,omitempty"`
}

func newDeploymentDoc(out string, a *contracts.Addresses) deploymentDoc {
	d := deploymentDoc{Out: out, ChainID: a.ChainID, Registry: a.Registry, Verifier: a.Verifier,
		VerifierCodeHash: a.VerifierCodeHash, DeployBlock: strconv.FormatUint(a.DeployBlock, 10),
		NumAssets: a.NumAssets, Governance: a.Governance, Prover: a.Prover,
		DelaySeconds:         strconv.FormatUint(a.DelaySeconds, 10),
		MaxReservesAgeBlocks: strconv.FormatUint(a.MaxReservesAgeBlocks, 10), Feeds: []feedDoc{}}
	for i, f := range a.Feeds {
		d.Feeds = append(d.Feeds, feedDoc{Asset: i, Aggregator: f.Aggregator, HeartbeatSeconds: f.Heartbeat,
			Dev: f.Dev, Description: f.Description, Decimals: f.Decimals})
	}
	return d
}

func printDeployment(w io.Writer, out string, addrs *contracts.Addresses) {
	fmt.Fprintf(w, "registry  %s\nverifier  %s\n", addrs.Registry.Hex(), addrs.Verifier.Hex())
	for i, f := range addrs.Feeds {
		dev := ""
		if f.Dev {
			dev = " (dev feed)"
		}
		fmt.Fprintf(w, "feed %-4d %s heartbeat %ds%s\n", i, f.Aggregator.Hex(), f.Heartbeat, dev)
	}
	fmt.Fprintf(w, "governance delay %ds, max reserves age %d blocks\n", addrs.DelaySeconds, addrs.MaxReservesAgeBlocks)
	fmt.Fprintf(w, "wrote %s\n", out)
}

// ocRegistryOptions locate the registry: --addresses FILE or --registry ADDRESS.
type ocRegistryOptions struct {
	addressesFile string
	registry      string
}

func (o *ocRegistryOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.addressesFile, "addresses", "addresses.json", "addresses file written by 'contracts deploy'")
	cmd.Flags().StringVar(&o.registry, "registry", "", "registry address (instead of the addresses file; events are searched from block 0)")
}

func (o *ocRegistryOptions) bind(ctx context.Context, client *ethclient.Client) (*contracts.Registry, *contracts.Addresses, error) {
	if o.registry != "" {
		if !common.IsHexAddress(o.registry) {
			return nil, nil, exitError(exitBadInput, fmt.Errorf("--registry: %q is not an address", o.registry))
		}
		reg, err := contracts.NewRegistry(common.HexToAddress(o.registry), client)
		return reg, nil, err
	}
	addrs, err := contracts.ReadAddresses(o.addressesFile)
	if err != nil {
		return nil, nil, exitError(exitBadInput, err)
	}
	if err := addrs.CheckChain(ctx, client); err != nil {
		return nil, nil, exitError(exitBadInput, err)
	}
	reg, err := addrs.Bind(client)
	return reg, addrs, err
}

// contractsSetPriceOptions are the flags of `contracts set-price`.
type contractsSetPriceOptions struct {
	chain  ocChainOptions
	reg    ocRegistryOptions
	asset  int
	answer string
	json   bool
}

func newContractsSetPriceCmd() *cobra.Command {
	o := &contractsSetPriceOptions{}
	cmd := &cobra.Command{
		Use:   "set-price --asset I --answer N",
		Short: "Post a new round to a dev price feed (dev chains only)",
		Long: `set-price posts a new round with ANSWER (an integer in the feed's own decimals) to the dev
feed registered for asset slot I, and prints the new round id.`,
		Example: `  solvency contracts set-price --rpc http://127.0.0.1:8545 --key devnet/dev.key --asset 0 --answer 6500000000000`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runContractsSetPrice(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.chain.register(cmd, true)
	o.reg.register(cmd)
	cmd.Flags().IntVar(&o.asset, "asset", 0, "asset slot")
	cmd.Flags().StringVar(&o.answer, "answer", "", "new answer, an integer in the feed's decimals")
	jsonFlag(cmd, &o.json)
	return cmd
}

// setPriceDoc is the --json document of `contracts set-price`.
type setPriceDoc struct {
	Asset      int            `json:"asset"`
	Aggregator common.Address `json:"aggregator"`
	RoundID    string         `json:"round_id"`
	Answer     string         `json:"answer"`
}

func runContractsSetPrice(ctx context.Context, o *contractsSetPriceOptions, stdout io.Writer) error {
	v, ok := new(big.Int).SetString(o.answer, 10)
	if !ok {
		return exitError(exitBadInput, fmt.Errorf("--answer %q is not an integer", o.answer))
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
	fc, err := reg.Feed(ctx, o.asset)
	if err != nil {
		return ocExit(err)
	}
	chain, err := o.chain.chain(ctx, client)
	if err != nil {
		return err
	}
	feed, err := contracts.NewDevFeed(fc.Aggregator, client)
	if err != nil {
		return err
	}
	round, err := feed.UpdateAnswer(ctx, chain, v)
	if err != nil {
		return ocExit(err)
	}
	if o.json {
		return printDocument(stdout, true, setPriceDoc{Asset: o.asset, Aggregator: fc.Aggregator, RoundID: round.String(), Answer: v.String()})
	}
	fmt.Fprintf(stdout, "asset %d feed %s round %s answer %s\n", o.asset, fc.Aggregator.Hex(), round, v)
	return nil
}

// contractsSetPolicyOptions are the flags of `contracts set-policy`.
type contractsSetPolicyOptions struct {
	chain ocChainOptions
	reg   ocRegistryOptions
	hash  string
	json  bool
}

func newContractsSetPolicyCmd() *cobra.Command {
	o := &contractsSetPolicyOptions{}
	cmd := &cobra.Command{
		Use:   "set-policy --policy-hash HEX",
		Short: "Set the first policy hash, or announce a new one (governance)",
		Long: `set-policy stores the policy hash proofs must be made under; it must be the hash of a
policy whose preimage holds this chain's id and this registry's address.

While no policy is in force (right after a deployment without --policy-hash) it is set at once:
no proof can be published before, so there is nothing to loosen. Once a policy is in force, a
new one is only announced: it applies after the registry's governance delay, with
'contracts change policy --apply' (docs/governance.md), and proofs under it are refused until
then.`,
		Example: `  solvency contracts set-policy --rpc http://127.0.0.1:8545 --key gov.key --policy-hash 0x0c1f...`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runContractsSetPolicy(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.chain.register(cmd, true)
	o.reg.register(cmd)
	cmd.Flags().StringVar(&o.hash, "policy-hash", "", "the policy hash (0x + 64 hex digits)")
	jsonFlag(cmd, &o.json)
	return cmd
}

func runContractsSetPolicy(ctx context.Context, o *contractsSetPolicyOptions, stdout io.Writer) error {
	e, err := poseidon.ParseHex(strings.TrimSpace(o.hash))
	if err != nil {
		return exitError(exitBadInput, fmt.Errorf("--policy-hash: %w", err))
	}
	client, reg, chain, err := ocSigner(ctx, &o.chain, &o.reg)
	if err != nil {
		return err
	}
	defer client.Close()
	cur, err := reg.PolicyHash(ctx)
	if err != nil {
		return ocExit(err)
	}
	doc := struct {
		Registry   common.Address `json:"registry"`
		PolicyHash string         `json:"policy_hash"`
		Action     string         `json:"action"` // "set" (in force now), "unchanged" or "announced"
		ETA        string         `json:"eta,omitempty"`
	}{Registry: reg.Address, PolicyHash: poseidon.Hex(e), Action: "set"}
	switch {
	case cur == common.Hash(e.Bytes()):
		doc.Action = "unchanged"
	case cur == (common.Hash{}):
		if err := reg.SetPolicyHash(ctx, chain, e); err != nil {
			return ocExit(err)
		}
	default:
		if err := reg.Announce(ctx, chain, contracts.PowerPolicyHash, contracts.PolicyValue(e)); err != nil {
			return ocExit(err)
		}
		pc, err := reg.Pending(ctx, contracts.PowerPolicyHash)
		if err != nil || pc == nil {
			return ocExit(fmt.Errorf("read the announcement back: %v", err))
		}
		doc.Action, doc.ETA = "announced", strconv.FormatUint(pc.ETA, 10)
	}
	if o.json {
		return printDocument(stdout, true, doc)
	}
	switch doc.Action {
	case "unchanged":
		fmt.Fprintf(stdout, "policy hash %s is already in force\n", doc.PolicyHash)
	case "announced":
		fmt.Fprintf(stdout, "policy hash %s announced; it applies from %s (run 'contracts change policy --apply' then); the policy in force stays %s until then\n",
			doc.PolicyHash, fmtUnix(doc.ETA), cur.Hex())
	default:
		fmt.Fprintf(stdout, "policy hash set to %s\n", doc.PolicyHash)
	}
	return nil
}

// fmtUnix writes a decimal unix time as RFC 3339 (UTC).
func fmtUnix(s string) string {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return s
	}
	return time.Unix(v, 0).UTC().Format(time.RFC3339)
}

// contractsCheckOptions are the flags of `contracts check`.
type contractsCheckOptions struct {
	vk    ocVKOptions
	chain ocChainOptions
	reg   ocRegistryOptions
	json  bool
}

func newContractsCheckCmd() *cobra.Command {
	o := &contractsCheckOptions{}
	cmd := &cobra.Command{
		Use:   "check (--vk FILE | --keys DIR) --assets N --rpc URL",
		Short: "Check a deployed registry against a pinned verifying key (auditors)",
		Long: `check compares the code at the registry address with the committed SolvencyRegistry artifact
byte for byte outside its immutables (solc's immutableReferences), checks the immutables (the
verifier address, asset count, feed delay and max reserves age; against the addresses file
unless --registry is given), compiles the verifier for the pinned verifying key with the pinned
solc and compares it byte for byte with the code at the registry's immutable verifier address
and shows the registry's governance, prover, policy hash, governance delay, feeds with their
heartbeats, and the latest reserves block's age.

It lists every governance power (the policy hash, the prover, the auditor set, the feeds and
governance itself), who holds it and the delay every change of it waits, and each announced
change not yet applied with the time from which it may be applied. It warns plainly about
development price feeds (their owner posts any price), a zero delay (changes apply at once), and
one key holding both the prover and governance (the operator can then change its own limits,
after the delay): docs/governance.md.

It also states which oracle rounds the registry accepts: a statement must name every feed's latest
round at the time it is published (an older round is refused even when it is complete and inside
the heartbeat, so the operator cannot pick a flattering price), and a feed's round id never goes
back between attestations. For each feed it shows the latest round now and the round the latest
attestation named (docs/trust-model.md, "Prices").

Take the key from the ceremony transcript, not from the operator. Exit code 1 when anything
differs.`,
		Example: `  solvency contracts check --keys keys/ --assets 8 --rpc $RPC --addresses addresses.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runContractsCheck(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.vk.register(cmd)
	o.chain.register(cmd, false)
	o.reg.register(cmd)
	jsonFlag(cmd, &o.json)
	return cmd
}

// registryState is what `contracts check` reads from a registry.
type registryState struct {
	reg                       *contracts.Registry
	numAssets                 int
	delay                     time.Duration
	auditors                  []common.Address
	pending                   []*contracts.PendingChange
	devFeeds                  []int
	maxAge, age, reservesBlk  uint64
	verifier, governance, prv common.Address
	policy                    common.Hash
	feeds                     []contracts.FeedConfig
	rounds                    []contracts.FeedRounds
	headTime                  uint64
}

func runContractsCheck(ctx context.Context, o *contractsCheckOptions, stdout io.Writer) error {
	_, art, err := o.vk.compile(ctx)
	if err != nil {
		return err
	}
	client, err := o.chain.dial(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	reg, addrs, err := o.reg.bind(ctx, client)
	if err != nil {
		return ocExit(err)
	}
	// The code first: no view of a contract is trusted before its code is known.
	codeErr := contracts.VerifyDeployment(ctx, client, reg, addrs, art)
	if errors.Is(codeErr, contracts.ErrNotRegistry) {
		return exitError(exitInvalid, codeErr)
	}
	st, err := readRegistryState(ctx, client, reg)
	if err != nil {
		return ocExit(err)
	}
	if st.numAssets != o.vk.assets {
		return exitError(exitInvalid, fmt.Errorf("the registry is built for %d assets, not %d", st.numAssets, o.vk.assets))
	}
	if o.json {
		if err := printDocument(stdout, codeErr == nil, newCheckDoc(st, codeErr)); err != nil {
			return err
		}
	} else {
		printCheck(stdout, st, codeErr)
	}
	if codeErr != nil {
		return exitError(exitInvalid, codeErr)
	}
	return nil
}

// readRegistryState reads every view `contracts check` shows.
func readRegistryState(ctx context.Context, client *ethclient.Client, reg *contracts.Registry) (*registryState, error) {
	st := &registryState{reg: reg}
	var err error
	if st.numAssets, err = reg.NumAssets(ctx); err != nil {
		return nil, err
	}
	if st.delay, err = reg.Delay(ctx); err != nil {
		return nil, err
	}
	if st.auditors, err = reg.Auditors(ctx); err != nil {
		return nil, err
	}
	if st.pending, err = reg.PendingChanges(ctx); err != nil {
		return nil, err
	}
	if st.maxAge, err = reg.MaxReservesAge(ctx); err != nil {
		return nil, err
	}
	if st.age, st.reservesBlk, err = reg.ReservesAge(ctx); err != nil {
		return nil, err
	}
	if st.verifier, err = reg.Verifier(ctx); err != nil {
		return nil, err
	}
	if st.governance, err = reg.Governance(ctx); err != nil {
		return nil, err
	}
	if st.prv, err = reg.Prover(ctx); err != nil {
		return nil, err
	}
	if st.policy, err = reg.PolicyHash(ctx); err != nil {
		return nil, err
	}
	st.feeds = make([]contracts.FeedConfig, st.numAssets)
	for i := range st.feeds {
		if st.feeds[i], err = reg.Feed(ctx, i); err != nil {
			return nil, err
		}
		dev, err := contracts.IsDevFeed(ctx, client, st.feeds[i].Aggregator)
		if err != nil {
			return nil, err
		}
		if dev {
			st.devFeeds = append(st.devFeeds, i)
		}
	}
	if st.rounds, err = reg.FeedRounds(ctx); err != nil {
		return nil, err
	}
	head, err := client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, err
	}
	st.headTime = head.Time
	return st, nil
}

// checkDoc is the --json document of `contracts check`; "ok" is true when the deployment matches.
type checkDoc struct {
	Registry             common.Address `json:"registry"`
	Verifier             common.Address `json:"verifier"`
	DeploymentMatches    bool           `json:"deployment_matches"`
	Mismatch             string         `json:"mismatch,omitempty"`
	NumAssets            int            `json:"num_assets"`
	Governance           common.Address `json:"governance"`
	Prover               common.Address `json:"prover"`
	PolicyHash           common.Hash    `json:"policy_hash"`
	DelaySeconds         string         `json:"delay_seconds"`
	MaxReservesAgeBlocks string         `json:"max_reserves_age_blocks"`
	LatestReservesBlock  string         `json:"latest_reserves_block"`
	ReservesAgeBlocks    string         `json:"reserves_age_blocks"`
	PriceRule            string         `json:"price_rule"`
	Feeds                []feedRoundDoc `json:"feeds"`
	Auditors             []string       `json:"auditors"`
	Powers               []powerDoc     `json:"powers"`
	Pending              []pendingDoc   `json:"pending"`
	Warnings             []string       `json:"warnings"`
}

// powerDoc is one governance power in `contracts check`: what it is now, who changes it, and how
// long a change waits.
type powerDoc struct {
	Power        string `json:"power"`
	Current      string `json:"current"`
	ChangedBy    string `json:"changed_by"`
	DelaySeconds string `json:"delay_seconds"`
}

// pendingDoc is an announced change not yet applied.
type pendingDoc struct {
	Power       string      `json:"power"`
	Value       string      `json:"value"`
	ETA         string      `json:"eta"`
	Applicable  bool        `json:"applicable_now"`
	AnnouncedTx common.Hash `json:"announced_tx"`
}

// feedRoundDoc is one feed in `contracts check`: its configuration and its rounds.
type feedRoundDoc struct {
	Asset             int            `json:"asset"`
	Aggregator        common.Address `json:"aggregator"`
	HeartbeatSeconds  uint32         `json:"heartbeat_seconds"`
	LatestRound       string         `json:"latest_round,omitempty"`
	UpdatedAt         string         `json:"updated_at,omitempty"`
	Error             string         `json:"error,omitempty"`
	LastAttestedRound string         `json:"last_attested_round"`
}

func newCheckDoc(st *registryState, codeErr error) checkDoc {
	d := checkDoc{Registry: st.reg.Address, Verifier: st.verifier, DeploymentMatches: codeErr == nil,
		NumAssets: st.numAssets, Governance: st.governance, Prover: st.prv, PolicyHash: st.policy,
		DelaySeconds:         strconv.FormatInt(int64(st.delay/time.Second), 10),
		MaxReservesAgeBlocks: strconv.FormatUint(st.maxAge, 10),
		LatestReservesBlock:  strconv.FormatUint(st.reservesBlk, 10),
		ReservesAgeBlocks:    strconv.FormatUint(st.age, 10), PriceRule: contracts.PriceRule, Feeds: []feedRoundDoc{},
		Auditors: []string{}, Powers: st.powers(), Pending: []pendingDoc{}, Warnings: st.warnings()}
	if codeErr != nil {
		d.Mismatch = codeErr.Error()
	}
	for _, a := range st.auditors {
		d.Auditors = append(d.Auditors, a.Hex())
	}
	for _, p := range st.pending {
		d.Pending = append(d.Pending, pendingDoc{Power: p.Power.String(), Value: p.Description,
			ETA: strconv.FormatUint(p.ETA, 10), Applicable: p.ETA <= st.headTime, AnnouncedTx: p.AnnouncedTx})
	}
	for i, f := range st.feeds {
		fd := feedRoundDoc{Asset: i, Aggregator: f.Aggregator, HeartbeatSeconds: f.Heartbeat, LastAttestedRound: "0"}
		if i < len(st.rounds) {
			r := st.rounds[i]
			fd.LatestRound, fd.Error = bigString(r.LatestRound), r.Error
			if r.UpdatedAt != 0 {
				fd.UpdatedAt = strconv.FormatUint(r.UpdatedAt, 10)
			}
			if r.LastAttested != nil {
				fd.LastAttestedRound = r.LastAttested.String()
			}
		}
		d.Feeds = append(d.Feeds, fd)
	}
	return d
}

// bigString is a decimal string, empty for nil.
func bigString(v *big.Int) string {
	if v == nil {
		return ""
	}
	return v.String()
}

func printCheck(w io.Writer, st *registryState, codeErr error) {
	status := "registry code and immutables match; verifier matches the pinned key"
	if codeErr != nil {
		status = "DOES NOT MATCH: " + codeErr.Error()
	}
	fmt.Fprintf(w, "registry    %s (%d assets)\nverifier    %s\ncheck       %s\ngovernance  %s\nprover      %s\npolicy hash %s\n",
		st.reg.Address.Hex(), st.numAssets, st.verifier.Hex(), status, st.governance.Hex(), st.prv.Hex(), st.policy.Hex())
	fmt.Fprintf(w, "delay       %s (%ds): every change of a power below is announced and applies only this long after\n",
		st.delay, int64(st.delay/time.Second))
	fmt.Fprintln(w, "powers")
	for _, p := range st.powers() {
		fmt.Fprintf(w, "  %-10s %s; changed by %s after %ss\n", p.Power, p.Current, p.ChangedBy, p.DelaySeconds)
	}
	if len(st.pending) == 0 {
		fmt.Fprintln(w, "pending     no announced change")
	}
	for _, p := range st.pending {
		when := "may be applied now"
		if p.ETA > st.headTime {
			when = fmt.Sprintf("applies from %s (in %s)", time.Unix(int64(p.ETA), 0).UTC().Format(time.RFC3339),
				time.Duration(p.ETA-st.headTime)*time.Second)
		}
		fmt.Fprintf(w, "pending     %s -> %s: %s (announced in tx %s)\n", p.Power, p.Description, when, p.AnnouncedTx.Hex())
	}
	for i, f := range st.feeds {
		dev := ""
		if slices.Contains(st.devFeeds, i) {
			dev = " (development feed)"
		}
		fmt.Fprintf(w, "feed %-6d %s heartbeat %ds%s\n", i, f.Aggregator.Hex(), f.Heartbeat, dev)
	}
	fmt.Fprintf(w, "prices      %s\n", contracts.PriceRule)
	for _, r := range st.rounds {
		fmt.Fprintf(w, "round %-5d %s\n", r.Asset, describeFeedRound(r, st.headTime))
	}
	fmt.Fprintf(w, "reserves    max age %d blocks", st.maxAge)
	if st.reservesBlk != 0 {
		fmt.Fprintf(w, "; latest attestation's reserves block %d is %d blocks old", st.reservesBlk, st.age)
	}
	fmt.Fprintln(w)
	for _, warn := range st.warnings() {
		fmt.Fprintf(w, "WARNING: %s\n", warn)
	}
}

// powers describes every governance power of the registry: what it is now and who changes it.
func (st *registryState) powers() []powerDoc {
	delay := strconv.FormatInt(int64(st.delay/time.Second), 10)
	gov := "governance " + st.governance.Hex()
	auditors := "no auditor"
	if len(st.auditors) > 0 {
		names := make([]string, len(st.auditors))
		for i, a := range st.auditors {
			names[i] = a.Hex()
		}
		auditors = "auditors " + strings.Join(names, ", ")
	}
	policy := "policy hash " + st.policy.Hex()
	if st.policy == (common.Hash{}) {
		policy = "no policy in force yet (governance sets the first one at once)"
	}
	return []powerDoc{
		{Power: "policy", Current: policy, ChangedBy: gov, DelaySeconds: delay},
		{Power: "prover", Current: "prover " + st.prv.Hex() + " publishes", ChangedBy: gov, DelaySeconds: delay},
		{Power: "auditors", Current: auditors + " may countersign", ChangedBy: gov, DelaySeconds: delay},
		{Power: "feeds", Current: fmt.Sprintf("%d price feeds", len(st.feeds)), ChangedBy: gov, DelaySeconds: delay},
		{Power: "governance", Current: gov, ChangedBy: gov + " (applied by the new governance)", DelaySeconds: delay},
	}
}

// warnings are what an auditor or a user must know before trusting this deployment's
// governance: each says what it allows.
func (st *registryState) warnings() []string {
	out := []string{}
	if len(st.devFeeds) > 0 {
		out = append(out, fmt.Sprintf("%d of %d price feeds are development feeds (DevPriceFeed): their owner posts any price it likes, so the attested prices are whatever the operator chose",
			len(st.devFeeds), len(st.feeds)))
	}
	if st.delay == 0 {
		out = append(out, "the governance delay is zero: governance can change the policy, the prover, the auditors, the feeds and itself at once, between two cycles, with no time for anyone to react")
	} else if st.delay < 24*time.Hour {
		out = append(out, fmt.Sprintf("the governance delay is %s, less than a day: users and auditors have little time to react to an announced change", st.delay))
	}
	if st.prv == st.governance {
		out = append(out, "one key ("+st.prv.Hex()+") is both the prover and governance: the operator that publishes can also loosen its own policy, replace its feeds or pick its auditors, each after the delay (docs/trust-model.md)")
	}
	if len(st.auditors) == 0 {
		out = append(out, "no auditor is set: no cycle can be countersigned, so nobody has confirmed on chain that the reserves were held")
	}
	return out
}

// describeFeedRound says which round a statement published now must name for one feed, and the
// round the latest attestation named.
func describeFeedRound(r contracts.FeedRounds, now uint64) string {
	last := "no attestation yet"
	if r.LastAttested != nil && r.LastAttested.Sign() > 0 {
		last = "latest attestation named round " + r.LastAttested.String()
	}
	if r.Error != "" {
		return "latest round unreadable (" + r.Error + "); " + last
	}
	age := "in the future"
	if r.UpdatedAt <= now {
		age = fmt.Sprintf("%ds old", now-r.UpdatedAt)
	}
	return fmt.Sprintf("latest round %s (%s, heartbeat %ds); %s", r.LatestRound, age, r.Heartbeat, last)
}

// contractsFeedsOptions are the flags of `contracts feeds`.
type contractsFeedsOptions struct {
	chain      ocChainOptions
	reg        ocRegistryOptions
	feeds      []string
	heartbeats []string
	apply      bool
	cancel     bool
	json       bool
}

func newContractsFeedsCmd() *cobra.Command {
	o := &contractsFeedsOptions{}
	cmd := &cobra.Command{
		Use:   "feeds [--feeds A,B --heartbeats S,S | --apply | --cancel]",
		Short: "Change the registry's price feeds through the governance delay (governance)",
		Long: `feeds announces a new feed per asset slot (with its heartbeat in seconds); the registry
applies it only after its immutable governance delay, and both steps emit events. Run it again
with --apply once the delay has passed, or --cancel to withdraw it. With no flag it shows the
current feeds.`,
		Example: `  solvency contracts feeds --rpc $RPC --key gov.key --feeds 0xAAA...,0xBBB... --heartbeats 3600,86400
  solvency contracts feeds --rpc $RPC --key gov.key --apply`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runContractsFeeds(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.chain.register(cmd, true)
	o.reg.register(cmd)
	cmd.Flags().StringSliceVar(&o.feeds, "feeds", nil, "proposed feed addresses, one per asset, comma-separated")
	cmd.Flags().StringSliceVar(&o.heartbeats, "heartbeats", nil, "proposed heartbeats in seconds, comma-separated")
	cmd.Flags().BoolVar(&o.apply, "apply", false, "apply the pending proposal")
	cmd.Flags().BoolVar(&o.cancel, "cancel", false, "withdraw the pending proposal")
	jsonFlag(cmd, &o.json)
	return cmd
}

// feedsDoc is the --json document of `contracts feeds`.
type feedsDoc struct {
	Registry common.Address `json:"registry"`
	Action   string         `json:"action"` // "show", "proposed", "applied" or "cancelled"
	Feeds    []feedDoc      `json:"feeds"`
}

func runContractsFeeds(ctx context.Context, o *contractsFeedsOptions, stdout io.Writer) error {
	if btoi(o.apply)+btoi(o.cancel)+btoi(len(o.feeds) > 0) > 1 {
		return exitError(exitBadInput, errors.New("give one of --feeds (to propose), --apply or --cancel"))
	}
	var proposal []contracts.FeedConfig
	if len(o.feeds) > 0 {
		var err error
		if proposal, err = ocParseFeeds(o.feeds, o.heartbeats); err != nil {
			return err
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
	doc := feedsDoc{Registry: reg.Address, Action: "show", Feeds: []feedDoc{}}
	if proposal != nil || o.apply || o.cancel {
		if doc.Action, err = o.send(ctx, client, reg, proposal); err != nil {
			return err
		}
		if !o.json {
			switch doc.Action {
			case "proposed":
				fmt.Fprintln(stdout, "feeds proposed; apply them with --apply once the registry's governance delay has passed")
			case "cancelled":
				fmt.Fprintln(stdout, "pending feeds withdrawn")
			default:
				fmt.Fprintln(stdout, "pending feeds applied")
			}
		}
	}
	n, err := reg.NumAssets(ctx)
	if err != nil {
		return ocExit(err)
	}
	for i := 0; i < n; i++ {
		f, err := reg.Feed(ctx, i)
		if err != nil {
			return ocExit(err)
		}
		doc.Feeds = append(doc.Feeds, feedDoc{Asset: i, Aggregator: f.Aggregator, HeartbeatSeconds: f.Heartbeat})
		if !o.json {
			fmt.Fprintf(stdout, "feed %-4d %s heartbeat %ds\n", i, f.Aggregator.Hex(), f.Heartbeat)
		}
	}
	if o.json {
		return printDocument(stdout, true, doc)
	}
	return nil
}

// send proposes the new feeds or applies the pending ones, and says which it did.
func (o *contractsFeedsOptions) send(ctx context.Context, client *ethclient.Client, reg *contracts.Registry, proposal []contracts.FeedConfig) (string, error) {
	chain, err := o.chain.chain(ctx, client)
	if err != nil {
		return "", err
	}
	if proposal != nil {
		if err := reg.ProposeFeeds(ctx, chain, proposal); err != nil {
			return "", ocExit(err)
		}
		return "proposed", nil
	}
	if o.cancel {
		if err := reg.CancelChange(ctx, chain, contracts.PowerFeeds); err != nil {
			return "", ocExit(err)
		}
		return "cancelled", nil
	}
	if err := reg.ApplyFeeds(ctx, chain); err != nil {
		return "", ocExit(err)
	}
	return "applied", nil
}

// ocParseFeeds reads --feeds and --heartbeats: one aggregator address and one heartbeat (seconds,
// within the registry's bounds) per asset slot.
func ocParseFeeds(feeds, heartbeats []string) ([]contracts.FeedConfig, error) {
	if len(heartbeats) != len(feeds) {
		return nil, exitError(exitBadInput, fmt.Errorf("%d feeds but %d heartbeats", len(feeds), len(heartbeats)))
	}
	out := make([]contracts.FeedConfig, 0, len(feeds))
	for i, f := range feeds {
		if !common.IsHexAddress(f) {
			return nil, exitError(exitBadInput, fmt.Errorf("--feeds: %q is not an address", f))
		}
		hb, err := strconv.ParseUint(heartbeats[i], 10, 32)
		if err == nil {
			err = contracts.CheckHeartbeat(uint32(hb))
		}
		if err != nil {
			return nil, exitError(exitBadInput, fmt.Errorf("--heartbeats: %q: want seconds in [1, %d]", heartbeats[i], contracts.MaxHeartbeat))
		}
		out = append(out, contracts.FeedConfig{Aggregator: common.HexToAddress(f), Heartbeat: uint32(hb)})
	}
	return out, nil
}

// ocSigner connects, binds the registry and loads the signing key: what every command that sends
// a registry transaction needs. The caller closes the client.
func ocSigner(ctx context.Context, chainOpts *ocChainOptions, regOpts *ocRegistryOptions) (*ethclient.Client, *contracts.Registry, *contracts.Chain, error) {
	client, err := chainOpts.dial(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	reg, _, err := regOpts.bind(ctx, client)
	if err != nil {
		client.Close()
		return nil, nil, nil, ocExit(err)
	}
	chain, err := chainOpts.chain(ctx, client)
	if err != nil {
		client.Close()
		return nil, nil, nil, err
	}
	return client, reg, chain, nil
}
