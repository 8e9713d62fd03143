package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/ethereum/go-ethereum/common"
)

// TestNumPublicInputs pins the registry's input count; the normalisation and packing vectors
// live with their one implementation, in circuits/statement.
func TestNumPublicInputs(t *testing.T) {
	for _, c := range []struct{ assets, inputs int }{{1, 5}, {4, 5}, {5, 6}, {8, 6}, {16, 8}} {
		if n, _ := NumPublicInputs(c.assets); n != c.inputs {
			t.Errorf("NumPublicInputs(%d) = %d, want %d", c.assets, n, c.inputs)
		}
	}
	for _, n := range []int{0, MaxAssets + 1} {
		if _, err := NumPublicInputs(n); err == nil {
			t.Errorf("NumPublicInputs(%d) accepted", n)
		}
	}
}

func sampleAttestation() *Attestation {
	a := &Attestation{
		Cycle: 1 << 60, ReservesBlock: 99, SnapshotEpoch: 7, SnapshotTime: 1_700_000_000,
		RoundIDs: []*big.Int{new(big.Int).Lsh(big.NewInt(1), 70), big.NewInt(2)}, Prices: []uint64{1<<63 - 1, 1},
		BundleDigest: common.HexToHash("0xabcd"), BundleURI: "ipfs://bundle", Proof: make([]byte, ProofLength),
	}
	a.PolicyHash.SetUint64(11)
	a.LC.SetUint64(22)
	a.RC.SetUint64(33)
	return a
}

func TestStatementJSON(t *testing.T) {
	a := sampleAttestation()
	path := filepath.Join(t.TempDir(), StatementFileName)
	if err := WriteStatementFile(path, a); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"policyHash": "0x000000000000000000000000000000000000000000000000000000000000000b"`) ||
		!strings.Contains(string(raw), `"cycle": "1152921504606846976"`) {
		t.Fatalf("unexpected encoding:\n%s", raw)
	}
	b, err := ReadStatementFile(path)
	if err != nil {
		t.Fatal(err)
	}
	words, _ := a.PublicInputs()
	words2, _ := b.PublicInputs()
	for i := range words {
		if words[i].Cmp(words2[i]) != 0 || b.BundleURI != a.BundleURI || b.RoundIDs[0].Cmp(a.RoundIDs[0]) != 0 {
			t.Fatal("round trip changed the statement")
		}
	}
	// Refusals: non-canonical field element, value >= p, number instead of hex, unknown field,
	// short proof, non-canonical integer.
	good := string(raw)
	for name, bad := range map[string]string{
		"uppercase hex":  strings.Replace(good, `0x000000000000000000000000000000000000000000000000000000000000000b`, `0x000000000000000000000000000000000000000000000000000000000000000B`, 1),
		"not below p":    strings.Replace(good, `0x000000000000000000000000000000000000000000000000000000000000000b`, `0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001`, 1),
		"number":         strings.Replace(good, `"0x000000000000000000000000000000000000000000000000000000000000000b"`, `11`, 1),
		"unknown field":  strings.Replace(good, `"version": 1,`, `"version": 1, "extra": 1,`, 1),
		"leading zero":   strings.Replace(good, `"cycle": "1152921504606846976"`, `"cycle": "01152921504606846976"`, 1),
		"price too wide": strings.Replace(good, `"9223372036854775807"`, `"9223372036854775808"`, 1),
		"short proof":    strings.Replace(good, `"proof": "0x00`, `"proof": "0x`, 1),
	} {
		if bad == good {
			t.Fatalf("%s: replacement did not apply", name)
		}
		var x Attestation
		if err := json.Unmarshal([]byte(bad), &x); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAddressesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "addresses.json")
	in := &Addresses{Version: AddressesVersion, ChainID: "1337", Registry: common.HexToAddress("0x01"), NumAssets: 2,
		Feeds: []FeedInfo{{Aggregator: common.HexToAddress("0x02"), Heartbeat: 60, Dev: true}}}
	if err := WriteAddresses(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadAddresses(path)
	if err != nil || out.Registry != in.Registry || out.Feeds[0].Heartbeat != 60 {
		t.Fatalf("round trip: %+v %v", out, err)
	}
	if err := os.WriteFile(path, []byte(`{"version":1,"registry":"0x01","typo":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAddresses(path); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func TestLoadKey(t *testing.T) {
	const hexKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"
	path := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(path, []byte("0x"+hexKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(path); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvKey, hexKey)
	if _, err := LoadKey(""); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvKey, "")
	if _, err := LoadKey(""); err == nil {
		t.Fatal("no key accepted")
	}
	if _, err := ParseKey("1234"); err == nil {
		t.Fatal("short key accepted")
	}
}

// commitCircuit uses gnark's commitment (as rangecheck does); its key must be refused (S8).
type commitCircuit struct {
	X frontend.Variable `gnark:",public"`
	Y frontend.Variable
}

func (c *commitCircuit) Define(api frontend.API) error {
	cm, err := api.(frontend.Committer).Commit(c.Y)
	if err != nil {
		return err
	}
	api.AssertIsDifferent(cm, c.X)
	return nil
}

func TestVerifierKeyChecks(t *testing.T) {
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, &commitCircuit{})
	if err != nil {
		t.Fatal(err)
	}
	_, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifierSource(vk, 1); err == nil || !strings.Contains(err.Error(), "commitment") {
		t.Fatalf("a key with a commitment was exported: %v", err)
	}
	keys := testKeys(t, 4)
	if _, err := VerifierSource(keys.vk, 8); err == nil {
		t.Fatal("a 5-input key was accepted for 8 assets (6 inputs)")
	}
	src, err := VerifierSource(keys.vk, 5) // 5 assets also need 6 inputs
	if err == nil {
		t.Fatalf("accepted: %d bytes", len(src))
	}
}

// TestArtifactsUpToDate recompiles the Solidity sources and compares them with the committed
// artifacts: run `go generate ./contracts` after editing a .sol file.
func TestArtifactsUpToDate(t *testing.T) {
	sources := map[string]string{}
	for _, name := range []string{"AggregatorV3Interface.sol", "DevPriceFeed.sol", "SolvencyRegistry.sol"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sources[name] = string(raw)
	}
	arts, err := Compile(context.Background(), sources)
	if errors.Is(err, ErrCompilerMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for name, load := range map[string]func() (*Artifact, error){"SolvencyRegistry": RegistryArtifact, "DevPriceFeed": DevFeedArtifact} {
		committed, err := load()
		if err != nil {
			t.Fatal(err)
		}
		if arts[name] == nil || arts[name].Bytecode != committed.Bytecode || arts[name].DeployedBytecode != committed.DeployedBytecode ||
			!reflect.DeepEqual(arts[name].ImmutableReferences, committed.ImmutableReferences) ||
			!reflect.DeepEqual(arts[name].ImmutableNames, committed.ImmutableNames) {
			t.Errorf("artifacts/%s.json is stale: run go generate ./contracts", name)
		}
	}
}

// TestVerifyDeployment checks V2's auditor path: the registry's code is the compiled registry
// (immutables masked), its immutables match the addresses file, and its verifier holds the
// compiled export of the key. A verifier of another key, a look-alike registry and an addresses
// file that misstates an immutable are each told apart.
func TestVerifyDeployment(t *testing.T) {
	env := newTestEnv(t, 4)
	ctx := context.Background()
	if err := VerifyDeployment(ctx, env.chain.Backend, env.reg, env.addrs, env.keys.verifier); err != nil {
		t.Fatal(err)
	}
	if err := VerifyDeployment(ctx, env.chain.Backend, env.reg, nil, env.keys.verifier); err != nil {
		t.Fatal(err)
	}
	other := testKeys(t, 8).verifier
	if err := VerifyDeployment(ctx, env.chain.Backend, env.reg, env.addrs, other); err == nil {
		t.Fatal("another key's verifier matched")
	}

	// A look-alike: another contract (a dev feed) at the address the file calls the registry.
	feed, err := DeployDevFeed(ctx, env.chain, devFeedSpecs(1, 3600)[0])
	if err != nil {
		t.Fatal(err)
	}
	fake := *env.addrs
	fake.Registry = feed.Address
	fakeReg, err := fake.Bind(env.chain.Backend)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*Addresses{&fake, nil} {
		err := VerifyDeployment(ctx, env.chain.Backend, fakeReg, a, env.keys.verifier)
		if !errors.Is(err, ErrNotRegistry) {
			t.Fatalf("a look-alike registry was accepted: %v", err)
		}
	}
	// No code at all.
	empty := *env.addrs
	empty.Registry = common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	emptyReg, _ := empty.Bind(env.chain.Backend)
	if err := VerifyDeployment(ctx, env.chain.Backend, emptyReg, &empty, env.keys.verifier); !errors.Is(err, ErrNotRegistry) {
		t.Fatal("an address without code was accepted")
	}

	// An addresses file that misstates an immutable.
	for name, edit := range map[string]func(a *Addresses){
		"verifier":         func(a *Addresses) { a.Verifier = feed.Address },
		"delay":            func(a *Addresses) { a.DelaySeconds++ },
		"max reserves age": func(a *Addresses) { a.MaxReservesAgeBlocks++ },
		"asset count":      func(a *Addresses) { a.NumAssets = 5 },
		"verifier code":    func(a *Addresses) { a.VerifierCodeHash[0] ^= 1 },
	} {
		lie := *env.addrs
		edit(&lie)
		if err := VerifyDeployment(ctx, env.chain.Backend, env.reg, &lie, env.keys.verifier); err == nil {
			t.Errorf("an addresses file with another %s was accepted", name)
		}
	}

	// A genuine registry with other immutables passes against its own file: only the
	// immutables' places are masked.
	addrs, err := Deploy(ctx, env.chain, DeployConfig{NumAssets: 4, Verifier: env.keys.verifier,
		DevFeeds: devFeedSpecs(4, 3600), Delay: 2 * DefaultDevDelay, MaxReservesAge: 12345})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := addrs.Bind(env.chain.Backend)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyDeployment(ctx, env.chain.Backend, reg, addrs, env.keys.verifier); err != nil {
		t.Fatal(err)
	}
	if err := VerifyDeployment(ctx, env.chain.Backend, reg, env.addrs, env.keys.verifier); err == nil {
		t.Fatal("another registry's addresses file was accepted")
	}
}

func TestReadVerifyingKey(t *testing.T) {
	keys := testKeys(t, 4)
	dir := t.TempDir()
	path := filepath.Join(dir, "solvency.vk")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.vk.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	vk, err := ReadVerifyingKey(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := VerifierSource(vk, 4)
	b, _ := VerifierSource(keys.vk, 4)
	if a != b || a == "" {
		t.Fatal("the key read back exports another verifier")
	}
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(raw, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadVerifyingKey(path); err == nil {
		t.Fatal("trailing bytes accepted")
	}
}
