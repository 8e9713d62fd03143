package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/signal"
	"path/filepath"
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
		newContractsSetPriceCmd(), newContractsSetPolicyCmd(), newContractsFeedsCmd())
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

func newContractsExportCmd() *cobra.Command {
	var (
		vk      ocVKOptions
		out     string
		replace bool
		asJSON  bool
	)
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
			if out == "" {
				return exitError(exitBadInput, errors.New("--out DIR is required"))
			}
			src, art, err := vk.compile(cmd.Context())
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
			err = atomicfile.Dir(out, replace, func(tmp string) error {
				if err := os.WriteFile(filepath.Join(tmp, "Verifier.sol"), []byte(src), 0o644); err != nil {
					return err
				}
				for name, a := range map[string]*contracts.Artifact{"Verifier": art, "SolvencyRegistry": reg, "DevPriceFeed": feed} {
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
			if asJSON {
				return ocPrintJSON(cmd.OutOrStdout(), map[string]any{"out": out, "compiler": art.Compiler,
					"files": []string{"Verifier.sol", "Verifier.json", "SolvencyRegistry.json", "DevPriceFeed.json"}})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote verifier and artifacts to %s (solc %s)\n", out, art.Compiler)
			return nil
		},
	}
	vk.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "output directory")
	cmd.Flags().BoolVar(&replace, "force", false, "replace an existing output directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON document")
	return cmd
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

func newContractsDeployCmd() *cobra.Command {
	var (
		vk          ocVKOptions
		chainOpts   ocChainOptions
		verifierArt string
		devFeeds    bool
		feeds       []string
		heartbeats  []string
		devDecimals int
		heartbeat   time.Duration
		feedDelay   time.Duration
		maxAge      uint64
		governance  string
		prover      string
		policyHash  string
		out         string
		asJSON      bool
	)
	cmd := &cobra.Command{
		Use:   "deploy --rpc URL --key FILE (--vk FILE | --keys DIR | --verifier FILE) --assets N (--dev-feeds | --feeds ...) --out FILE",
		Short: "Deploy the verifier, the registry and (on a dev chain) price feeds; write the addresses file",
		Long: `deploy compiles the verifier for the solvency verifying key (or takes a Verifier.json
written by 'contracts export'), deploys it, deploys one settable DevPriceFeed per asset when
--dev-feeds is given (dev chains only; otherwise name existing Chainlink feeds with --feeds and
--heartbeats, one per asset in the asset table's order), then the registry, and writes the
addresses file that publish and attestations read.

The deployer becomes governance and prover unless --governance/--prover say otherwise. The policy
hash binds the chain id and the registry address, so it is usually set after deployment with
'contracts set-policy'; --policy-hash sets it right away when it is already known.`,
		Example: `  solvency contracts deploy --rpc http://127.0.0.1:8545 --key devnet/dev.key \
      --keys keys/ --assets 8 --dev-feeds --out addresses.json
  SOLVENCY_KEY=$(cat deployer.key) solvency contracts deploy --rpc $RPC --verifier build/contracts/Verifier.json \
      --assets 2 --feeds 0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c,0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419 \
      --heartbeats 3600,3600 --feed-delay 48h --out addresses.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := ocSignalContext(cmd.Context())
			defer stop()
			if out == "" {
				return exitError(exitBadInput, errors.New("--out FILE is required"))
			}
			if _, err := contracts.NumPublicInputs(vk.assets); err != nil {
				return exitError(exitBadInput, fmt.Errorf("--assets: %w", err))
			}
			if err := contracts.CheckFeedDelay(feedDelay); err != nil {
				return exitError(exitBadInput, fmt.Errorf("--feed-delay: %w", err))
			}
			if err := contracts.CheckMaxReservesAge(maxAge); err != nil {
				return exitError(exitBadInput, fmt.Errorf("--max-reserves-age: %w", err))
			}
			cfg := contracts.DeployConfig{NumAssets: vk.assets, FeedDelay: feedDelay, MaxReservesAge: maxAge}
			if verifierArt != "" {
				if vk.vkFile != "" || vk.keysDir != "" {
					return exitError(exitBadInput, errors.New("give --verifier or a verifying key, not both"))
				}
				raw, err := os.ReadFile(verifierArt)
				if err != nil {
					return exitError(exitBadInput, err)
				}
				var a contracts.Artifact
				if err := json.Unmarshal(raw, &a); err != nil {
					return exitError(exitBadInput, fmt.Errorf("%s: %w", verifierArt, err))
				}
				cfg.Verifier = &a
			} else {
				_, art, err := vk.compile(ctx)
				if err != nil {
					return err
				}
				cfg.Verifier = art
			}
			switch {
			case devFeeds && len(feeds) > 0:
				return exitError(exitBadInput, errors.New("give --dev-feeds or --feeds, not both"))
			case devFeeds:
				if heartbeat <= 0 || heartbeat%time.Second != 0 || heartbeat > time.Duration(contracts.MaxHeartbeat)*time.Second {
					return exitError(exitBadInput, fmt.Errorf("--heartbeat must be whole seconds in [1s, %s]",
						time.Duration(contracts.MaxHeartbeat)*time.Second))
				}
				if devDecimals < 0 || devDecimals > contracts.MaxFeedDecimals {
					return exitError(exitBadInput, fmt.Errorf("--dev-decimals must be in [0, %d]", contracts.MaxFeedDecimals))
				}
				for i := 0; i < vk.assets; i++ {
					one := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(devDecimals)), nil)
					cfg.DevFeeds = append(cfg.DevFeeds, contracts.DevFeedSpec{
						Description: fmt.Sprintf("ASSET%d / USD (dev)", i), Decimals: uint8(devDecimals),
						Answer: one, Heartbeat: uint32(heartbeat / time.Second)})
				}
			case len(feeds) > 0:
				fcs, err := ocParseFeeds(feeds, heartbeats)
				if err != nil {
					return err
				}
				cfg.Feeds = fcs
			default:
				return exitError(exitBadInput, errors.New("give --dev-feeds, or --feeds and --heartbeats"))
			}
			for _, a := range []struct {
				flag, value string
				dst         *common.Address
			}{{"--governance", governance, &cfg.Governance}, {"--prover", prover, &cfg.Prover}} {
				if a.value == "" {
					continue
				}
				if !common.IsHexAddress(a.value) {
					return exitError(exitBadInput, fmt.Errorf("%s: %q is not an address", a.flag, a.value))
				}
				*a.dst = common.HexToAddress(a.value)
			}
			if policyHash != "" {
				e, err := poseidon.ParseHex(policyHash)
				if err != nil {
					return exitError(exitBadInput, fmt.Errorf("--policy-hash: %w", err))
				}
				cfg.PolicyHash = &e
			}
			client, err := chainOpts.dial(ctx)
			if err != nil {
				return err
			}
			defer client.Close()
			chain, err := chainOpts.chain(ctx, client)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "deploying to chain %s from %s\n", chain.ChainID, chain.From().Hex())
			addrs, err := contracts.Deploy(ctx, chain, cfg)
			if addrs != nil {
				if werr := contracts.WriteAddresses(out, addrs); werr != nil {
					return exitError(exitBadInput, errors.Join(err, werr))
				}
			}
			if err != nil {
				return ocExit(err)
			}
			if asJSON {
				return ocPrintJSON(cmd.OutOrStdout(), addrs)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "registry  %s\nverifier  %s\n", addrs.Registry.Hex(), addrs.Verifier.Hex())
			for i, f := range addrs.Feeds {
				dev := ""
				if f.Dev {
					dev = " (dev feed)"
				}
				fmt.Fprintf(w, "feed %-4d %s heartbeat %ds%s\n", i, f.Aggregator.Hex(), f.Heartbeat, dev)
			}
			fmt.Fprintf(w, "feed delay %ds, max reserves age %d blocks\n", addrs.FeedDelaySeconds, addrs.MaxReservesAgeBlocks)
			fmt.Fprintf(w, "wrote %s\n", out)
			return nil
		},
	}
	vk.register(cmd)
	chainOpts.register(cmd, true)
	f := cmd.Flags()
	f.StringVar(&verifierArt, "verifier", "", "a compiled Verifier.json from 'contracts export' instead of a key")
	f.BoolVar(&devFeeds, "dev-feeds", false, "deploy one settable DevPriceFeed per asset (dev chains only)")
	f.StringSliceVar(&feeds, "feeds", nil, "existing Chainlink feed addresses, one per asset, comma-separated")
	f.StringSliceVar(&heartbeats, "heartbeats", nil, "each feed's heartbeat in seconds, comma-separated")
	f.IntVar(&devDecimals, "dev-decimals", 8, "decimals of the dev feeds")
	f.DurationVar(&heartbeat, "heartbeat", time.Hour, "heartbeat of the dev feeds (at most 7 days)")
	f.DurationVar(&feedDelay, "feed-delay", 48*time.Hour,
		fmt.Sprintf("timelock on feed changes, in [%s, %s]", contracts.MinFeedDelay, contracts.MaxFeedDelay))
	f.Uint64Var(&maxAge, "max-reserves-age", contracts.DefaultMaxReservesAge,
		fmt.Sprintf("most blocks a statement's reserves block may lie behind the recording block, in [1, %d]", contracts.MaxReservesAgeLimit))
	f.StringVar(&governance, "governance", "", "governance address (default: the deployer)")
	f.StringVar(&prover, "prover", "", "prover address (default: the deployer)")
	f.StringVar(&policyHash, "policy-hash", "", "policy hash to set after deployment (0x + 64 hex digits)")
	f.StringVar(&out, "out", "addresses.json", "addresses file to write")
	f.BoolVar(&asJSON, "json", false, "print the addresses as JSON")
	return cmd
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

func newContractsSetPriceCmd() *cobra.Command {
	var (
		chainOpts ocChainOptions
		regOpts   ocRegistryOptions
		asset     int
		answer    string
	)
	cmd := &cobra.Command{
		Use:   "set-price --asset I --answer N",
		Short: "Post a new round to a dev price feed (dev chains only)",
		Long: `set-price posts a new round with ANSWER (an integer in the feed's own decimals) to the dev
feed registered for asset slot I, and prints the new round id.`,
		Example: `  solvency contracts set-price --rpc http://127.0.0.1:8545 --key devnet/dev.key --asset 0 --answer 6500000000000`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			v, ok := new(big.Int).SetString(answer, 10)
			if !ok {
				return exitError(exitBadInput, fmt.Errorf("--answer %q is not an integer", answer))
			}
			client, err := chainOpts.dial(ctx)
			if err != nil {
				return err
			}
			defer client.Close()
			reg, _, err := regOpts.bind(ctx, client)
			if err != nil {
				return ocExit(err)
			}
			fc, err := reg.Feed(ctx, asset)
			if err != nil {
				return ocExit(err)
			}
			chain, err := chainOpts.chain(ctx, client)
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
			fmt.Fprintf(cmd.OutOrStdout(), "asset %d feed %s round %s answer %s\n", asset, fc.Aggregator.Hex(), round, v)
			return nil
		},
	}
	chainOpts.register(cmd, true)
	regOpts.register(cmd)
	cmd.Flags().IntVar(&asset, "asset", 0, "asset slot")
	cmd.Flags().StringVar(&answer, "answer", "", "new answer, an integer in the feed's decimals")
	return cmd
}

func newContractsSetPolicyCmd() *cobra.Command {
	var (
		chainOpts ocChainOptions
		regOpts   ocRegistryOptions
		hash      string
	)
	cmd := &cobra.Command{
		Use:   "set-policy --policy-hash HEX",
		Short: "Store the policy hash proofs must be made under (governance)",
		Long: `set-policy stores a new policy hash in the registry; it must be the hash of a policy whose
preimage holds this chain's id and this registry's address.`,
		Example: `  solvency contracts set-policy --rpc http://127.0.0.1:8545 --key gov.key --policy-hash 0x0c1f...`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			e, err := poseidon.ParseHex(strings.TrimSpace(hash))
			if err != nil {
				return exitError(exitBadInput, fmt.Errorf("--policy-hash: %w", err))
			}
			client, reg, chain, err := ocSigner(ctx, &chainOpts, &regOpts)
			if err != nil {
				return err
			}
			defer client.Close()
			if err := reg.SetPolicyHash(ctx, chain, e); err != nil {
				return ocExit(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "policy hash set to %s\n", poseidon.Hex(e))
			return nil
		},
	}
	chainOpts.register(cmd, true)
	regOpts.register(cmd)
	cmd.Flags().StringVar(&hash, "policy-hash", "", "the policy hash (0x + 64 hex digits)")
	return cmd
}

func newContractsCheckCmd() *cobra.Command {
	var (
		vk        ocVKOptions
		chainOpts ocChainOptions
		regOpts   ocRegistryOptions
		asJSON    bool
		codeErr   error
	)
	cmd := &cobra.Command{
		Use:   "check (--vk FILE | --keys DIR) --assets N --rpc URL",
		Short: "Check a deployed registry against a pinned verifying key (auditors)",
		Long: `check compares the code at the registry address with the committed SolvencyRegistry artifact
byte for byte outside its immutables (solc's immutableReferences), checks the immutables (the
verifier address, asset count, feed delay and max reserves age; against the addresses file
unless --registry is given), compiles the verifier for the pinned verifying key with the pinned
solc and compares it byte for byte with the code at the registry's immutable verifier address
and shows the registry's governance, prover, policy hash, feed delay, feeds with their
heartbeats, and the latest reserves block's age.

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
			ctx := cmd.Context()
			_, art, err := vk.compile(ctx)
			if err != nil {
				return err
			}
			client, err := chainOpts.dial(ctx)
			if err != nil {
				return err
			}
			defer client.Close()
			reg, addrs, err := regOpts.bind(ctx, client)
			if err != nil {
				return ocExit(err)
			}
			// The code first: no view of a contract is trusted before its code is known.
			if err := contracts.VerifyDeployment(ctx, client, reg, addrs, art); err != nil {
				if errors.Is(err, contracts.ErrNotRegistry) {
					return exitError(exitInvalid, err)
				}
				codeErr = err
			}
			n, err := reg.NumAssets(ctx)
			if err != nil {
				return ocExit(err)
			}
			if n != vk.assets {
				return exitError(exitInvalid, fmt.Errorf("the registry is built for %d assets, not %d", n, vk.assets))
			}
			feedDelay, err := reg.FeedDelay(ctx)
			if err != nil {
				return ocExit(err)
			}
			maxAge, err := reg.MaxReservesAge(ctx)
			if err != nil {
				return ocExit(err)
			}
			age, reservesBlock, err := reg.ReservesAge(ctx)
			if err != nil {
				return ocExit(err)
			}
			verifier, err := reg.Verifier(ctx)
			if err != nil {
				return ocExit(err)
			}
			gov, err := reg.Governance(ctx)
			if err != nil {
				return ocExit(err)
			}
			prover, err := reg.Prover(ctx)
			if err != nil {
				return ocExit(err)
			}
			policy, err := reg.PolicyHash(ctx)
			if err != nil {
				return ocExit(err)
			}
			feeds := make([]contracts.FeedConfig, n)
			for i := range feeds {
				if feeds[i], err = reg.Feed(ctx, i); err != nil {
					return ocExit(err)
				}
			}
			rounds, err := reg.FeedRounds(ctx)
			if err != nil {
				return ocExit(err)
			}
			head, err := client.HeaderByNumber(ctx, nil)
			if err != nil {
				return ocExit(err)
			}
			if asJSON {
				if err := ocPrintJSON(cmd.OutOrStdout(), map[string]any{
					"registry": reg.Address, "verifier": verifier, "verifierMatchesKey": codeErr == nil, "deploymentMatches": codeErr == nil,
					"numAssets": n, "governance": gov, "prover": prover, "policyHash": policy,
					"feedDelaySeconds": strconv.FormatInt(int64(feedDelay/time.Second), 10), "feeds": feeds,
					"maxReservesAgeBlocks": strconv.FormatUint(maxAge, 10),
					"latestReservesBlock":  strconv.FormatUint(reservesBlock, 10), "reservesAgeBlocks": strconv.FormatUint(age, 10),
					"priceRule": contracts.PriceRule, "feedRounds": rounds,
				}); err != nil {
					return err
				}
			} else {
				w := cmd.OutOrStdout()
				status := "registry code and immutables match; verifier matches the pinned key"
				if codeErr != nil {
					status = "DOES NOT MATCH: " + codeErr.Error()
				}
				fmt.Fprintf(w, "registry    %s (%d assets)\nverifier    %s\ncheck       %s\ngovernance  %s\nprover      %s\npolicy hash %s\n",
					reg.Address.Hex(), n, verifier.Hex(), status, gov.Hex(), prover.Hex(), policy.Hex())
				fmt.Fprintf(w, "feed delay  %s (%ds)\n", feedDelay, int64(feedDelay/time.Second))
				for i, f := range feeds {
					fmt.Fprintf(w, "feed %-6d %s heartbeat %ds\n", i, f.Aggregator.Hex(), f.Heartbeat)
				}
				fmt.Fprintf(w, "prices      %s\n", contracts.PriceRule)
				for _, r := range rounds {
					fmt.Fprintf(w, "round %-5d %s\n", r.Asset, describeFeedRound(r, head.Time))
				}
				fmt.Fprintf(w, "reserves    max age %d blocks", maxAge)
				if reservesBlock != 0 {
					fmt.Fprintf(w, "; latest attestation's reserves block %d is %d blocks old", reservesBlock, age)
				}
				fmt.Fprintln(w)
			}
			if codeErr != nil {
				return exitError(exitInvalid, codeErr)
			}
			return nil
		},
	}
	vk.register(cmd)
	chainOpts.register(cmd, false)
	regOpts.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
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

func newContractsFeedsCmd() *cobra.Command {
	var (
		chainOpts  ocChainOptions
		regOpts    ocRegistryOptions
		feeds      []string
		heartbeats []string
		apply      bool
	)
	cmd := &cobra.Command{
		Use:   "feeds [--feeds A,B --heartbeats S,S | --apply]",
		Short: "Change the registry's price feeds through the timelock (governance)",
		Long: `feeds proposes a new feed per asset slot (with its heartbeat in seconds); the registry
applies it only after its immutable feed delay, and both steps emit events. Run it again
with --apply once the delay has passed. With neither flag it shows the current feeds.`,
		Example: `  solvency contracts feeds --rpc $RPC --key gov.key --feeds 0xAAA...,0xBBB... --heartbeats 3600,86400
  solvency contracts feeds --rpc $RPC --key gov.key --apply`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if apply && len(feeds) > 0 {
				return exitError(exitBadInput, errors.New("give --feeds to propose or --apply, not both"))
			}
			var proposal []contracts.FeedConfig
			if len(feeds) > 0 {
				var err error
				if proposal, err = ocParseFeeds(feeds, heartbeats); err != nil {
					return err
				}
			}
			client, err := chainOpts.dial(ctx)
			if err != nil {
				return err
			}
			defer client.Close()
			reg, _, err := regOpts.bind(ctx, client)
			if err != nil {
				return ocExit(err)
			}
			w := cmd.OutOrStdout()
			switch {
			case proposal != nil:
				chain, err := chainOpts.chain(ctx, client)
				if err != nil {
					return err
				}
				if err := reg.ProposeFeeds(ctx, chain, proposal); err != nil {
					return ocExit(err)
				}
				fmt.Fprintln(w, "feeds proposed; apply them with --apply once the registry's feed delay has passed")
			case apply:
				chain, err := chainOpts.chain(ctx, client)
				if err != nil {
					return err
				}
				if err := reg.ApplyFeeds(ctx, chain); err != nil {
					return ocExit(err)
				}
				fmt.Fprintln(w, "pending feeds applied")
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
				fmt.Fprintf(w, "feed %-4d %s heartbeat %ds\n", i, f.Aggregator.Hex(), f.Heartbeat)
			}
			return nil
		},
	}
	chainOpts.register(cmd, true)
	regOpts.register(cmd)
	cmd.Flags().StringSliceVar(&feeds, "feeds", nil, "proposed feed addresses, one per asset, comma-separated")
	cmd.Flags().StringSliceVar(&heartbeats, "heartbeats", nil, "proposed heartbeats in seconds, comma-separated")
	cmd.Flags().BoolVar(&apply, "apply", false, "apply the pending proposal")
	return cmd
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
