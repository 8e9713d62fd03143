package contracts

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/solidity"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"
)

// echoCircuit has exactly the solvency statement's public inputs and only asserts that each
// equals a private copy. It stands in for the solvency circuit in tests and gas measurements:
// its verifier has the same input count, so verification costs the same, and its proofs exercise
// the registry's real packing path (a proof verifies only for the words the registry builds).
type echoCircuit struct {
	Public []frontend.Variable `gnark:",public"`
	Copy   []frontend.Variable
}

// Define implements frontend.Circuit.
func (c *echoCircuit) Define(api frontend.API) error {
	for i := range c.Public {
		api.AssertIsEqual(c.Public[i], c.Copy[i])
	}
	return nil
}

// echoKeys is a single-party dev setup of echoCircuit for numAssets assets with its compiled
// verifier. Never use such keys for anything but tests and measurements.
type echoKeys struct {
	numAssets int
	ccs       constraint.ConstraintSystem
	pk        groth16.ProvingKey
	vk        groth16.VerifyingKey
	verifier  *Artifact
}

func newEchoKeys(ctx context.Context, numAssets int) (*echoKeys, error) {
	n, err := NumPublicInputs(numAssets)
	if err != nil {
		return nil, err
	}
	circuit := &echoCircuit{Public: make([]frontend.Variable, n), Copy: make([]frontend.Variable, n)}
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, circuit)
	if err != nil {
		return nil, fmt.Errorf("compile test circuit: %w", err)
	}
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		return nil, fmt.Errorf("test circuit setup: %w", err)
	}
	_, art, err := CompileVerifier(ctx, vk, numAssets)
	if err != nil {
		return nil, err
	}
	return &echoKeys{numAssets: numAssets, ccs: ccs, pk: pk, vk: vk, verifier: art}, nil
}

// prove makes a proof whose public inputs are words.
func (k *echoKeys) prove(words []*big.Int) ([]byte, error) {
	assignment := &echoCircuit{Public: make([]frontend.Variable, len(words)), Copy: make([]frontend.Variable, len(words))}
	for i, w := range words {
		assignment.Public[i] = w
		assignment.Copy[i] = w
	}
	wit, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		return nil, fmt.Errorf("test witness: %w", err)
	}
	proof, err := groth16.Prove(k.ccs, k.pk, wit, solidity.WithProverTargetSolidityVerifier(backend.GROTH16))
	if err != nil {
		return nil, fmt.Errorf("test proof: %w", err)
	}
	return SolidityProof(proof)
}

// simEnv is a deployed registry with dev feeds on go-ethereum's simulated backend (a real EVM).
type simEnv struct {
	sim     *simulated.Backend
	simMade time.Time // when sim was made (closeSim)
	chain   *Chain    // deployer: governance and prover
	other   *Chain    // a funded account with no role
	addrs   *Addresses
	reg     *Registry
	feeds   []*DevFeed
	answers []*big.Int
	keys    *echoKeys
	// snapshotTimes fixes each snapshot epoch's time at its first use: one epoch, one snapshot
	// (S7), as the registry requires.
	snapshotTimes map[uint64]uint64
}

// testMaxReservesAge is the simulated registries' max reserves age, in blocks: small, so a test
// can age a reserves block past it by sealing a few empty blocks.
const testMaxReservesAge = 64

// devFeedSpecs alternates USD pairs (8 decimals) and ETH-style pairs (18 decimals) so both
// normalisation branches run.
func devFeedSpecs(numAssets int, heartbeat uint32) []DevFeedSpec {
	specs := make([]DevFeedSpec, numAssets)
	for i := range specs {
		if i%2 == 0 {
			specs[i] = DevFeedSpec{Description: fmt.Sprintf("ASSET%d / USD", i), Decimals: 8,
				Answer: big.NewInt(int64(1000+i) * 1e8), Heartbeat: heartbeat}
		} else {
			a, _ := new(big.Int).SetString(fmt.Sprintf("%d123456789012345678", i+1), 10)
			specs[i] = DevFeedSpec{Description: fmt.Sprintf("ASSET%d / ETH", i), Decimals: 18, Answer: a, Heartbeat: heartbeat}
		}
	}
	return specs
}

// stand-in for the solvency circuit's Poseidon policy hash in tests: any field element that
// depends on the chain id and the registry address, as the real one does (S6).
func testPolicyHash(chainID *big.Int, registry common.Address, salt byte) fr.Element {
	h := crypto.Keccak256(common.BigToHash(chainID).Bytes(), registry.Bytes(), []byte{salt})
	var e fr.Element
	e.SetBytes(h) // reduces mod p: fine for a stand-in
	return e
}

// MainnetRules returns go-ethereum's dev chain configuration with the forks after Osaka (the
// rules Ethereum mainnet runs) switched off. go-ethereum v1.17's dev chain also activates the
// unreleased Amsterdam/Bogota rules, whose EIP-8037 state gas prices a new storage slot at about
// 98k gas instead of 22.1k; gas targets are stated for mainnet's rules.
func MainnetRules() *params.ChainConfig {
	c := *params.AllDevChainProtocolChanges
	c.AmsterdamTime = nil
	c.BogotaTime = nil
	c.UBTTime = nil
	return &c
}

// newSimEnv deploys on a simulated chain with the given rules (go-ethereum's dev rules if nil).
func newSimEnv(ctx context.Context, keys *echoKeys, rules *params.ChainConfig) (env *simEnv, err error) {
	deployer, err := crypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	other, err := crypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	funds := new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))
	sim := simulated.NewBackend(types.GenesisAlloc{
		crypto.PubkeyToAddress(deployer.PublicKey): {Balance: funds},
		crypto.PubkeyToAddress(other.PublicKey):    {Balance: funds},
	}, simulated.WithBlockGasLimit(60_000_000), func(_ *node.Config, ethConf *ethconfig.Config) {
		if rules != nil {
			ethConf.Genesis.Config = rules
		}
	})
	simMade := time.Now()
	defer func() {
		if err != nil {
			closeSim(sim, simMade)
		}
	}()
	chain, err := NewChain(ctx, sim.Client(), deployer)
	if err != nil {
		return nil, err
	}
	chain.Commit = func() { sim.Commit() }
	chain.PollInterval = 5 * time.Millisecond
	otherChain := *chain
	otherChain.Key = other
	env, err = newEnvOn(ctx, keys, chain, &otherChain)
	if err != nil {
		return nil, err
	}
	env.sim, env.simMade = sim, simMade
	return env, nil
}

// newEnvOn deploys dev feeds, the verifier and the registry with chain's key and sets a test
// policy hash.
func newEnvOn(ctx context.Context, keys *echoKeys, chain, other *Chain) (*simEnv, error) {
	specs := devFeedSpecs(keys.numAssets, 3600)
	addrs, err := Deploy(ctx, chain, DeployConfig{
		NumAssets: keys.numAssets, Verifier: keys.verifier, DevFeeds: specs, Delay: DefaultDevDelay,
		MaxReservesAge: testMaxReservesAge,
	})
	if err != nil {
		return nil, err
	}
	reg, err := addrs.Bind(chain.Backend)
	if err != nil {
		return nil, err
	}
	if err := reg.SetPolicyHash(ctx, chain, testPolicyHash(chain.ChainID, addrs.Registry, 0)); err != nil {
		return nil, err
	}
	env := &simEnv{chain: chain, other: other, addrs: addrs, reg: reg, keys: keys, snapshotTimes: map[uint64]uint64{}}
	for i, f := range addrs.Feeds {
		feed, err := NewDevFeed(f.Aggregator, chain.Backend)
		if err != nil {
			return nil, err
		}
		env.feeds = append(env.feeds, feed)
		env.answers = append(env.answers, specs[i].Answer)
	}
	return env, nil
}

func (e *simEnv) Close() error {
	if e.sim == nil {
		return nil
	}
	return closeSim(e.sim, e.simMade)
}

// simSettle is how long a simulated backend is left running after it is made before it is
// closed. go-ethereum v1.17.10's simulated beacon starts a goroutine that subscribes to the
// transaction pool; a backend closed before that goroutine runs makes it dereference a nil
// subscription and crash the whole test binary (seen once under load, when a deployment failed
// at once). The goroutine needs microseconds; the wait is far longer, and costs only the
// backends that fail at once.
const simSettle = 250 * time.Millisecond

// closeSim closes sim no sooner than simSettle after made.
func closeSim(sim *simulated.Backend, made time.Time) error {
	time.Sleep(time.Until(made.Add(simSettle)))
	return sim.Close()
}

// refreshRounds posts every feed's answer again so each has a fresh round.
func (e *simEnv) refreshRounds(ctx context.Context) error {
	for i, f := range e.feeds {
		if _, err := f.UpdateAnswer(ctx, e.chain, e.answers[i]); err != nil {
			return err
		}
	}
	return nil
}

// statement builds an unproven statement for cycle over each feed's latest round, with the
// reserves claimed at the head block and epoch's snapshot: LC 1000 + epoch, taken a minute before
// the head the first time the epoch is used, at the same time ever after.
func (e *simEnv) statement(ctx context.Context, cycle, epoch uint64) (*Attestation, error) {
	head, err := e.chain.Backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("read head: %w", err)
	}
	snapTime, ok := e.snapshotTimes[epoch]
	if !ok {
		snapTime = head.Time - 60
		e.snapshotTimes[epoch] = snapTime
	}
	policy, err := e.reg.PolicyHash(ctx)
	if err != nil {
		return nil, err
	}
	a := &Attestation{
		Cycle: cycle, ReservesBlock: head.Number.Uint64(), SnapshotEpoch: epoch, SnapshotTime: snapTime,
		BundleDigest: crypto.Keccak256Hash([]byte(fmt.Sprintf("bundle %d", cycle))),
		BundleURI:    fmt.Sprintf("https://example.org/bundles/%d", cycle),
	}
	a.PolicyHash.SetBytes(policy[:])
	a.LC.SetUint64(1000 + epoch)
	a.RC.SetUint64(2000 + cycle)
	prices, err := e.reg.LatestPrices(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range prices {
		a.RoundIDs = append(a.RoundIDs, p.RoundID)
		a.Prices = append(a.Prices, p.Price)
	}
	return a, nil
}

// prove attaches a proof of a's own public inputs.
func (e *simEnv) prove(a *Attestation) error {
	words, err := a.PublicInputs()
	if err != nil {
		return err
	}
	a.Proof, err = e.keys.prove(words)
	return err
}

// GasReport is the gas of publish at one asset count, measured on the simulated backend with a
// verifier of the statement's public input count. Gas is the transaction receipt's, everything
// included (intrinsic and calldata, verification, oracle checks, storage, event).
type GasReport struct {
	Assets       int    `json:"assets"`
	PublicInputs int    `json:"publicInputs"`
	FirstPublish uint64 `json:"firstPublishGas"` // the first attestation (its summary slot is new)
	Publish      uint64 `json:"publishGas"`      // a later attestation: the steady state
	Budget       uint64 `json:"budgetGas"`       // 300,000 + 17,000 per asset
	// Under go-ethereum's dev chain rules (EIP-8037 state gas from the unreleased Amsterdam fork),
	// which the devnet does not use but the plain simulated backend does.
	FutureFirstPublish uint64 `json:"futureRulesFirstPublishGas"`
	FuturePublish      uint64 `json:"futureRulesPublishGas"`
}

// PublishGasBudget is the target for one publish transaction: 300,000 gas plus 17,000 per
// oracle-checked asset, all included. (It was 15,000 per asset before the registry recorded each
// feed's round, P2: one storage word per three feeds, read and rewritten by every publish.)
func PublishGasBudget(numAssets int) uint64 { return 300_000 + 17_000*uint64(numAssets) }

// MeasurePublishGas deploys a registry for numAssets assets on a simulated chain and returns the
// gas of its first and of a later publish, under mainnet's rules (MainnetRules) and under
// go-ethereum's future-fork dev rules. It makes a throwaway single-party setup of a circuit with
// the solvency statement's public inputs (a verifier of the same size as the real one) and needs
// the pinned solc (scripts/setup.sh) to compile that verifier. It takes a few seconds.
func MeasurePublishGas(ctx context.Context, numAssets int) (*GasReport, error) {
	keys, err := newEchoKeys(ctx, numAssets)
	if err != nil {
		return nil, err
	}
	return measurePublishGas(ctx, keys)
}

func measurePublishGas(ctx context.Context, keys *echoKeys) (*GasReport, error) {
	n, err := NumPublicInputs(keys.numAssets)
	if err != nil {
		return nil, err
	}
	rep := &GasReport{Assets: keys.numAssets, PublicInputs: n, Budget: PublishGasBudget(keys.numAssets)}
	if rep.FirstPublish, rep.Publish, err = publishTwice(ctx, keys, MainnetRules()); err != nil {
		return nil, err
	}
	if rep.FutureFirstPublish, rep.FuturePublish, err = publishTwice(ctx, keys, nil); err != nil {
		return nil, err
	}
	return rep, nil
}

// publishTwice publishes cycles 1 and 2 on a fresh simulated chain and returns their gas.
func publishTwice(ctx context.Context, keys *echoKeys, rules *params.ChainConfig) (first, second uint64, err error) {
	env, err := newSimEnv(ctx, keys, rules)
	if err != nil {
		return 0, 0, err
	}
	defer func() { err = errors.Join(err, env.Close()) }()
	var gas [2]uint64
	for i := range gas {
		cycle := uint64(i + 1)
		if err := env.refreshRounds(ctx); err != nil {
			return 0, 0, err
		}
		a, err := env.statement(ctx, cycle, 1)
		if err != nil {
			return 0, 0, err
		}
		if err := env.prove(a); err != nil {
			return 0, 0, err
		}
		res, err := env.reg.Publish(ctx, env.chain, a)
		if err != nil {
			return 0, 0, fmt.Errorf("measure publish gas: %w", err)
		}
		gas[i] = res.GasUsed
	}
	return gas[0], gas[1], nil
}
