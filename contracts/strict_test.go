package contracts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// V3: statement files are read strictly: a repeated cycle (the last one used to win), a
// case-variant key, trailing garbage and null are refused, naming the file and the key.
func TestV3_StatementFileStrict(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, StatementFileName)
	if err := WriteStatementFile(path, sampleAttestation()); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	good := string(raw)
	for name, c := range map[string]struct{ doc, want string }{
		"cycle twice":      {strings.Replace(good, `"cycle": `, `"cycle": "1", "cycle": `, 1), `key "cycle": duplicate key`},
		"LC for lc":        {strings.Replace(good, `"lc": `, `"LC": `, 1), `did you mean "lc"`},
		"trailing garbage": {good + "garbage", "trailing data"},
		"null":             {"null", "the document is null"},
		"no bundleUri":     {strings.Replace(good, `"bundleUri"`, `"bundleURI"`, 1), `key "bundleURI"`},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(p, []byte(c.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadStatementFile(p); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p+":") {
			t.Errorf("%s: want %q naming %s, got %v", name, c.want, p, err)
		}
	}
	// V8: publish's input is read as a regular file within bounds.
	link := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadStatementFile(link); err == nil || !strings.Contains(err.Error(), "is a device") {
		t.Errorf("link to /dev/zero: %v", err)
	}
}

// V3: the addresses file is strict too: a registry given twice is refused.
func TestV3_AddressesFileStrict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "addresses.json")
	in := &Addresses{Version: AddressesVersion, ChainID: "1337", Registry: common.HexToAddress("0x01"), NumAssets: 2,
		Feeds: []FeedInfo{{Aggregator: common.HexToAddress("0x02"), Heartbeat: 60, Dev: true}}}
	if err := WriteAddresses(path, in); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	dup := strings.Replace(string(raw), `"registry": `, `"registry": "0x0000000000000000000000000000000000000009", "registry": `, 1)
	if err := os.WriteFile(path, []byte(dup), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAddresses(path); err == nil || !strings.Contains(err.Error(), `key "registry": duplicate key`) {
		t.Fatalf("registry twice: %v", err)
	}
}

// V8: a signing key file linked to /dev/zero is refused, not read until memory runs out.
func TestV8_KeyFileLinkedToDevZeroRefused(t *testing.T) {
	link := filepath.Join(t.TempDir(), "dev.key")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(link); err == nil || !strings.Contains(err.Error(), "is a device") {
		t.Fatalf("key linked to /dev/zero: %v", err)
	}
}
