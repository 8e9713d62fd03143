package main

import (
	"context"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/contracts/treasurychain"
	"github.com/solvency-dev/solvency/verifier"
)

// TestVerifyReservesRPCReadsChain runs `solvency verify reserves --rpc URL --opening FILE
// --bundle DIR` against the sample treasury on a dev chain served over loopback HTTP: the honest
// opening passes and prints the reads; an opening whose committed amounts claim one unit of USDC
// more than the chain holds at the reserves block exits 1 naming the position.
func TestVerifyReservesRPCReadsChain(t *testing.T) {
	dn, err := devnet.Start(devnet.Config{HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Close()
	ctx := context.Background()
	client, err := ethclient.DialContext(ctx, dn.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	chain, err := contracts.NewChain(ctx, client, dn.Key)
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := crypto.GenerateKey()
	d, err := treasurychain.Deploy(ctx, chain, treasurychain.SampleSpec([]common.Address{crypto.PubkeyToAddress(owner.PublicKey)}, 1))
	if err != nil {
		t.Fatal(err)
	}
	var table []assets.Asset
	assetIdx := map[string]int{}
	for i, a := range d.Assets {
		table = append(table, assets.Asset{Symbol: a.Symbol, Decimals: a.Decimals, Precision: min(a.Decimals, 6)})
		assetIdx[a.Symbol] = i
	}
	venueIdx := map[string]int{"safe": 0, "aave-v3-usdc": 1, "compound-v3-usdc": 2, "aave-v3-dai": 3, "aave-v3-usdt": 4}
	m, err := verifier.ChainMapFromDeployment(d, venueIdx, assetIdx)
	if err != nil {
		t.Fatal(err)
	}
	read, err := verifier.ReadChainBalances(ctx, client, m, d.Block, table)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, extraUSDC int64) (string, string) {
		var pos []solvency.Position
		var open []bundle.OpenPosition
		for _, b := range read.Observed.Balances {
			v, _ := new(big.Int).SetString(b.AmountBase, 10)
			a := table[b.Asset]
			v.Quo(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.Decimals-a.Precision)), nil))
			if v.Sign() == 0 {
				continue
			}
			if b.Venue == 1 && a.Symbol == "USDC" {
				v.Add(v, big.NewInt(extraUSDC))
			}
			pos = append(pos, solvency.Position{Venue: b.Venue, Asset: b.Asset, Amount: v})
			open = append(open, bundle.OpenPosition{Venue: b.Venue, Asset: b.Asset, Amount: v.String()})
		}
		var salt poseidon.Element
		salt.SetUint64(99)
		rc, err := verifier.OpeningRC(pos, salt.Element, 16)
		if err != nil {
			t.Fatal(err)
		}
		op := bundle.ReservesOpening{Version: bundle.ReservesOpeningVersion, Cycle: 4, RC: poseidon.Hex(rc), Salt: poseidon.Hex(salt.Element),
			Block: d.Block, Slots: 16, Positions: open, Assets: table, Venues: []solvency.Venue{}, Chain: m}
		raw, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		opPath := filepath.Join(dir, name+"-opening.json")
		if err := os.WriteFile(opPath, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		bdir := filepath.Join(dir, name+"-bundle")
		if err := os.MkdirAll(bdir, 0o755); err != nil {
			t.Fatal(err)
		}
		// A profile that is not built in: the slot counts are the opening's own (16 positions, no
		// option or pool slots), which RC binds.
		man := bundle.Manifest{Version: bundle.Version, Profile: "rpc-toy", Assets: assets.Table{Assets: table},
			Statement: bundle.Statement{Cycle: 4, ReservesBlock: d.Block, RC: poseidon.Element{Element: rc}, ChainID: devnet.ChainID,
				Prices: []bundle.Price{}, PublicInputs: []poseidon.Element{}},
			Liabilities: bundle.Liabilities{TopLevels: [][]poseidon.Element{}}, Batches: []bundle.Batch{}}
		mraw, err := man.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bdir, bundle.ManifestFile), mraw, 0o644); err != nil {
			t.Fatal(err)
		}
		return opPath, bdir
	}

	op, b := write("honest", 0)
	code, stdout, stderr := runToy(t, "verify", "reserves", "--opening", op, "--bundle", b, "--rpc", dn.HTTPEndpoint())
	if code != 0 {
		t.Fatalf("honest opening: exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("honest:\n%s", stdout)
	if !strings.Contains(stdout, "read from the chain at block") || !strings.Contains(stdout, "countersign sha256:") ||
		!strings.Contains(stdout, d.Safe.Hex()) {
		t.Errorf("honest output:\n%s", stdout)
	}

	op, b = write("inflated", 1)
	code, stdout, stderr = runToy(t, "verify", "reserves", "--opening", op, "--bundle", b, "--rpc", dn.HTTPEndpoint())
	if code != 1 || !strings.Contains(stderr+stdout, "(venue 1, USDC)") || !strings.Contains(stdout, "overstated") {
		t.Fatalf("one unit more USDC: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
