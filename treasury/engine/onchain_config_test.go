package engine

import (
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/contracts/treasurychain"
)

// onchainFixture is the sample's engine inputs with a deployment file (addresses made up: no
// chain is needed to check a configuration) and a valid on-chain file the cases then break.
func onchainFixture(t *testing.T) (*Engine, *inputs, string, *OnchainFile) {
	t.Helper()
	dir := t.TempDir()
	cfg := sampleConfig(t, dir, 8)
	e := &Engine{cfg: cfg}
	if err := e.loadPolicy(); err != nil {
		t.Fatal(err)
	}
	in := &inputs{}
	if err := e.loadTreasury(in); err != nil {
		t.Fatal(err)
	}
	addr := func(i int) common.Address { return common.BigToAddress(new(big.Int).Lsh(big.NewInt(1), uint(i+10))) }
	d := &treasurychain.Deployment{ChainID: 1337, Safe: addr(0), SafeVenue: "safe", Multicall: addr(1), MultiSendCallOnly: addr(2)}
	f := &OnchainFile{Deployment: "deployment.json", Safe: addr(0).Hex(), Tokens: map[string]string{}, Execution: ExecBatch}
	var own []string
	for i, a := range e.pol.Table().Assets {
		d.Assets = append(d.Assets, treasurychain.DeployedAsset{Symbol: a.Symbol, Decimals: a.Decimals, Token: addr(20 + i)})
		f.Tokens[a.Symbol] = addr(20 + i).Hex()
		if a.Symbol != "STETH" {
			own = append(own, a.Symbol)
		}
	}
	f.Venues = append(f.Venues, OnchainVenue{Venue: "safe", Kind: VenueSafe, Address: addr(0).Hex(), Assets: own})
	for i, v := range []struct{ venue, asset string }{{"aave-v3-usdc", "USDC"}, {"aave-v3-usdt", "USDT"}, {"aave-v3-dai", "DAI"}, {"compound-v3-usdc", "USDC"}} {
		d.Vaults = append(d.Vaults, treasurychain.DeployedVault{Venue: v.venue, Asset: v.asset, Address: addr(40 + i)})
		f.Venues = append(f.Venues, OnchainVenue{Venue: v.venue, Kind: VenueVault, Address: addr(40 + i).Hex(), Assets: []string{v.asset}})
	}
	st, _ := d.Asset("STETH")
	f.Venues = append(f.Venues, OnchainVenue{Venue: "lido", Kind: VenueToken, Address: st.Token.Hex(), Assets: []string{"STETH"}})
	if err := treasurychain.WriteDeployment(filepath.Join(dir, "deployment.json"), d); err != nil {
		t.Fatal(err)
	}
	return e, in, dir, f
}

func loadOnchainWith(t *testing.T, e *Engine, in *inputs, dir string, f *OnchainFile) error {
	t.Helper()
	raw, _ := json.Marshal(f)
	path := filepath.Join(dir, "onchain.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfg.Onchain = path
	e.onchain = nil
	return e.loadOnchain(in)
}

// TestOnchainConfigCheckedAgainstDeployment: a valid on-chain file loads, splits the book into
// on-chain and off-chain venues and names both in the opening's chain map; each address that
// is not the deployment's, a venue that shares a policy venue across the chain boundary, a token
// read twice, an unknown execution mode and owner keys missing are refused, naming the fault.
func TestOnchainConfigCheckedAgainstDeployment(t *testing.T) {
	e, in, dir, good := onchainFixture(t)
	if err := loadOnchainWith(t, e, in, dir, good); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	// The sample's options venue and AMM are off chain beside the custodian and the perp venue.
	if got := strings.Join(e.onchain.offChain, ","); got != "coinbase-prime,derive,gmx,uniswap-v2" {
		t.Fatalf("off chain: %s", got)
	}
	m := e.onchain.chainMap
	if len(m.Positions) != len(e.onchain.specs) || len(m.OffChain) != 4 || m.ChainID != 1337 {
		t.Fatalf("chain map: %+v", m)
	}
	clone := func() *OnchainFile {
		raw, _ := json.Marshal(good)
		var f OnchainFile
		json.Unmarshal(raw, &f)
		return &f
	}
	cases := []struct {
		name, want string
		edit       func(f *OnchainFile)
	}{
		{"vault address not the deployment's", "is not a vault of the deployment", func(f *OnchainFile) { f.Venues[1].Address = f.Venues[2].Address }},
		{"safe not the deployment's", "is not the deployment's Safe", func(f *OnchainFile) { f.Safe = f.Venues[1].Address }},
		{"token not the deployment's", "is not the deployment's", func(f *OnchainFile) { f.Tokens["USDC"] = f.Tokens["DAI"] }},
		{"one balance read twice", "read the same balance", func(f *OnchainFile) { f.Venues[0].Assets = append(f.Venues[0].Assets, "STETH") }},
		{"venue not in the book", "not in the venue book", func(f *OnchainFile) { f.Venues[1].Venue = "maker" }},
		{"unknown execution", "execution \"yolo\"", func(f *OnchainFile) { f.Execution = "yolo" }},
		{"owners without keys", "needs the owners' keys", func(f *OnchainFile) { f.Execution = ExecOwners }},
		{"policy venue split across the chain", "shares the policy venue", func(f *OnchainFile) { f.Venues = append(f.Venues[:1], f.Venues[2:]...) }},
	}
	for _, c := range cases {
		f := clone()
		c.edit(f)
		err := loadOnchainWith(t, e, in, dir, f)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
	}
}
