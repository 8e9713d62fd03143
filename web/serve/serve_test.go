package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/bundlefetch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/internal/cyclefixture"
	"github.com/solvency-dev/solvency/prover/keys"
)

var fx *cyclefixture.Fixture

func TestMain(m *testing.M) { cyclefixture.Main(m, "serve-", &fx) }

// stateDir lays out a state directory the way the engine does, with every private file beside
// the public bundle.
func stateDir(t *testing.T) string {
	t.Helper()
	st := filepath.Join(t.TempDir(), "state")
	cyc := filepath.Join(st, "cycles", "000001")
	cyclefixture.CopyDir(t, fx.Bundle, filepath.Join(cyc, "bundle"))
	cyclefixture.CopyDir(t, fx.KeysDir, filepath.Join(st, "keys"))
	cyclefixture.CopyDir(t, fx.SnapDir, filepath.Join(st, "liabilities"))
	if err := os.WriteFile(filepath.Join(cyc, "private"), []byte("RC-OPENING-SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A private file planted inside the bundle directory, and a link out of it.
	if err := os.WriteFile(filepath.Join(cyc, "bundle", "opening.json"), []byte("RC-OPENING-SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(cyc, "private"), filepath.Join(cyc, "bundle", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st, "state"), []byte("STATE-DB"), 0o600); err != nil {
		t.Fatal(err)
	}
	return st
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestV4_ServeOnlyPublicBundleFiles(t *testing.T) {
	st := stateDir(t)
	s, err := New(Options{StateDir: filepath.Dir(st), Page: fstest.MapFS{"index.html": {Data: []byte("page")}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	var list []BundleEntry
	_, b := get(t, srv.URL+"/bundles/")
	if err := json.Unmarshal(b, &list); err != nil || len(list) != 1 {
		t.Fatalf("bundle list %s: %v", b, err)
	}
	// The whole bundle is fetchable by its digest and verifies its digests.
	bd, err := bundlefetch.Fetch(t.Context(), srv.URL+list[0].URL, list[0].Digest, bundlefetch.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// Secrets: every file of the keys directory that is not public, the private store, the
	// RC opening, the state database.
	var secrets [][]byte
	filepath.WalkDir(filepath.Join(st, "keys"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".vk") && filepath.Base(p) != keys.MetadataFile {
			if data, err := os.ReadFile(p); err == nil && len(data) > 64 {
				secrets = append(secrets, data[len(data)/2:len(data)/2+32])
			}
		}
		return nil
	})
	if len(secrets) == 0 {
		t.Fatal("the fixture's keys directory has no proving keys to look for")
	}
	secrets = append(secrets, []byte("RC-OPENING-SECRET"), []byte("STATE-DB"))
	paths := []string{
		"/bundles/" + list[0].Digest + "/opening.json",
		"/bundles/" + list[0].Digest + "/link",
		"/bundles/" + list[0].Digest + "/../private",
		"/bundles/" + list[0].Digest + "/..%2fprivate",
		"/bundles/" + list[0].Digest + "/%2e%2e/private",
		"/bundles/" + list[0].Digest + "/",
		"/bundles/" + list[0].Digest + "/keys/",
		"/bundles/" + list[0].Digest + "/batches/",
		"/bundles/" + strings.Repeat("0", 64) + "/manifest.json",
		"/bundles/../keys/keys.json", "/keys/", "/state", "/liabilities/", "/cycles/000001/private",
		"/verify/../state", "/verify/..%2fstate", "/rpc",
	}
	for _, p := range paths {
		code, body := get(t, srv.URL+p)
		if code == http.StatusOK {
			t.Errorf("%s served (%d bytes)", p, len(body))
		}
	}
	for p, data := range bd.Files {
		for _, sec := range secrets {
			if bytes.Contains(data, sec) {
				t.Errorf("%s holds private bytes", p)
			}
		}
	}
	// The accounts' ids and salts from the private store appear in no served file. Leaf order is
	// a secret shuffle, so take accounts by id rather than by leaf index (an index may be padding).
	for i := 0; i < 3 && i < len(fx.Data.Accounts); i++ {
		pr, err := fx.Store.Proof(fx.Data.Accounts[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		for p, data := range bd.Files {
			if bytes.Contains(data, []byte(pr.AccountID)) || bytes.Contains(data, []byte(poseidon.Hex(pr.Salt.Fr())[2:])) {
				t.Errorf("%s names account %s or its salt", p, pr.AccountID)
			}
		}
	}
	// Pins are the digests only.
	code, b := get(t, srv.URL+"/pins.json")
	if code != http.StatusOK || !bytes.Contains(b, []byte(fx.Pins["batch"])) {
		t.Fatalf("pins: %d %s", code, b)
	}
}

func TestServeRefusesChangedBundleOnDisk(t *testing.T) {
	st := stateDir(t)
	s, err := New(Options{StateDir: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	bs, err := s.Bundles()
	if err != nil || len(bs) != 1 {
		t.Fatal(bs, err)
	}
	mp := filepath.Join(st, "cycles", "000001", "bundle", bundle.ManifestFile)
	raw, _ := os.ReadFile(mp)
	os.WriteFile(mp, append(raw, ' '), 0o644)
	if code, _ := get(t, srv.URL+bs[0].URL+"/manifest.json"); code == http.StatusOK {
		t.Fatal("a manifest that no longer has the digest it is served under was served")
	}
}

func TestServeRPCProxyForwardsReadsOnly(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":"0x539"}`)
	}))
	defer up.Close()
	s, err := New(Options{StateDir: stateDir(t), RPC: up.URL})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	post := func(method string) int {
		resp, err := http.Post(srv.URL+"/rpc", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post("eth_chainId"); c != http.StatusOK {
		t.Errorf("eth_chainId: %d", c)
	}
	for _, m := range []string{"eth_sendRawTransaction", "eth_sendTransaction", "personal_unlockAccount", "debug_traceCall"} {
		if c := post(m); c != http.StatusForbidden {
			t.Errorf("%s forwarded (%d)", m, c)
		}
	}
}
