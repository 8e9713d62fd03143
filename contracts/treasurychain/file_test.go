package treasurychain

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestDeploymentFileRoundTripStrict(t *testing.T) {
	d := &Deployment{ChainID: 1337, Safe: common.HexToAddress("0x5afe"), SafeVenue: "safe", Owners: []common.Address{common.HexToAddress("0x1")},
		Threshold: 1, Multicall: common.HexToAddress("0xca11"), MultiSendCallOnly: common.HexToAddress("0x5e"),
		Assets: []DeployedAsset{{Symbol: "ETH", Decimals: 18, Native: true}, {Symbol: "USDC", Decimals: 6, Token: common.HexToAddress("0xc0")}},
		Vaults: []DeployedVault{{Venue: "v", Asset: "USDC", Address: common.HexToAddress("0x7a")}}, Block: 9}
	path := filepath.Join(t.TempDir(), "treasury.json")
	if err := WriteDeployment(path, d); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDeployment(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Fatalf("round trip:\n%+v\n%+v", got, d)
	}
	raw, _ := os.ReadFile(path)
	for name, edit := range map[string]string{
		"unknown field": strings.Replace(string(raw), `"version": 1,`, `"version": 1, "extra": 2,`, 1),
		"other version": strings.Replace(string(raw), `"version": 1,`, `"version": 2,`, 1),
		"trailing data": string(raw) + "{}",
	} {
		p := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(p, []byte(edit), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadDeployment(p); err == nil {
			t.Errorf("%s: read", name)
		}
	}
}
