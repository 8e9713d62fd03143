package contracts

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts/devnet"
)

// TestDevnetEthers starts the embedded dev chain on a loopback port, deploys and publishes over
// HTTP, and reads the attestation back with ethers.js: ordinary tooling sees what Go wrote.
func TestDevnetEthers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	keys := testKeys(t, 4)
	dir := t.TempDir()
	d, err := devnet.Start(devnet.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	url := d.HTTPEndpoint()
	client, err := ethclient.DialContext(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	chain, err := NewChain(ctx, client, d.Key)
	if err != nil {
		t.Fatal(err)
	}
	chain.PollInterval = 20 * time.Millisecond
	env, err := newEnvOn(ctx, keys, chain, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := provenStatement(t, env, 3, 1)
	res, err := env.reg.Publish(ctx, chain, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("devnet publish gas (4 assets, mainnet rules): %d", res.GasUsed)

	out, err := nodeTool(ctx, "read-attestation.js", nil, url, env.addrs.Registry.Hex(), "3")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ChainID     string `json:"chainId"`
		StoredHash  string `json:"storedHash"`
		HashMatches bool   `json:"hashMatches"`
		Record      struct {
			Cycle      string   `json:"cycle"`
			PolicyHash string   `json:"policyHash"`
			LC         string   `json:"lc"`
			Prices     []string `json:"prices"`
			RoundIDs   []string `json:"roundIds"`
			BundleURI  string   `json:"bundleUri"`
		} `json:"record"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("ethers output %s: %v", out, err)
	}
	if !got.HashMatches || got.StoredHash != res.AttestationHash.Hex() || got.ChainID != "1337" {
		t.Fatalf("ethers sees %s", out)
	}
	if got.Record.Cycle != "3" || got.Record.PolicyHash != poseidon.Hex(a.PolicyHash) ||
		got.Record.LC != poseidon.Hex(a.LC) || got.Record.BundleURI != a.BundleURI {
		t.Fatalf("ethers record %s differs from the statement", out)
	}
	for i, p := range a.Prices {
		if got.Record.Prices[i] != strconv.FormatUint(p, 10) || got.Record.RoundIDs[i] != a.RoundIDs[i].String() {
			t.Fatalf("ethers record asset %d differs: %s", i, out)
		}
	}
}

// TestDevnetPersists restarts a dev chain on the same data directory: the key, the funds and the
// deployed contracts survive.
func TestDevnetPersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := devnet.Start(devnet.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	chain, err := NewChain(ctx, d.Client(), d.Key)
	if err != nil {
		t.Fatal(err)
	}
	chain.PollInterval = 20 * time.Millisecond
	feed, err := DeployDevFeed(ctx, chain, devFeedSpecs(1, 60)[0])
	if err != nil {
		t.Fatal(err)
	}
	addr := d.Address
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := devnet.Start(devnet.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if d2.Address != addr {
		t.Fatalf("developer key changed across restarts: %s then %s", addr.Hex(), d2.Address.Hex())
	}
	// The key file is plain hex, readable by go-ethereum's own loader.
	key, err := crypto.LoadECDSA(filepath.Join(dir, devnet.KeyFileName))
	if err != nil || crypto.PubkeyToAddress(key.PublicKey) != addr {
		t.Fatalf("key file: %v", err)
	}
	code, err := d2.Client().CodeAt(ctx, feed.Address, nil)
	if err != nil || len(code) == 0 {
		t.Fatalf("feed code after restart: %d bytes, %v", len(code), err)
	}
	if _, err := devnet.Start(devnet.Config{HTTPAddr: "0.0.0.0:0"}); err == nil {
		t.Fatal("a non-loopback HTTP address was accepted")
	}
	// In memory, no HTTP: the form a demo starts and stops inside one process.
	mem, err := devnet.Start(devnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := mem.Client().ChainID(ctx); err != nil || id.Int64() != devnet.ChainID || mem.HTTPEndpoint() != "" || mem.KeyFile != "" {
		t.Fatalf("in-memory chain: id %v, %v", id, err)
	}
	if err := mem.Close(); err != nil {
		t.Fatal(err)
	}
}
