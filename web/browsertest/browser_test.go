package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/internal/cyclefixture"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/treasury/engine"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/treasury/sample"
	"github.com/solvency-dev/solvency/web"
	"github.com/solvency-dev/solvency/web/report"
	"github.com/solvency-dev/solvency/web/serve"
)

// httpPublish publishes each cycle with the bundle's address on the test server, as `publish`
// does with an operator's base URL. It deploys the contracts itself, as the engine would but
// with an auditor set (the engine deploys none, and adding one waits the governance delay).
type httpPublish struct {
	*engine.EVMChain
	base     string
	auditors []common.Address
}

// Bind deploys the verifier, dev feeds and the registry with the auditor set when no
// deployment is recorded, then binds as the engine does.
func (c *httpPublish) Bind(ctx context.Context, pf *policy.File) error {
	if _, err := os.Stat(c.AddrFile); err == nil {
		return c.EVMChain.Bind(ctx, pf)
	}
	_, art, err := contracts.CompileVerifier(ctx, c.VK, c.NumAssets)
	if err != nil {
		return err
	}
	cfg := contracts.DeployConfig{NumAssets: c.NumAssets, Verifier: art, Auditors: c.auditors}
	for _, a := range pf.Table().Assets {
		cfg.DevFeeds = append(cfg.DevFeeds, contracts.DevFeedSpec{Description: a.Symbol + " / USD", Decimals: 8,
			Answer: big.NewInt(100_000_000), Heartbeat: 86400})
	}
	addr, err := contracts.Deploy(ctx, c.Chain, cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.AddrFile), 0o700); err != nil {
		return err
	}
	if err := contracts.WriteAddresses(c.AddrFile, addr); err != nil {
		return err
	}
	return c.EVMChain.Bind(ctx, pf)
}

func (c *httpPublish) Publish(ctx context.Context, dir string, m *bundle.Manifest) (*engine.Publication, error) {
	a, err := contracts.BundleAttestation(dir, m)
	if err != nil {
		return nil, err
	}
	a.BundleURI = fmt.Sprintf("%s/bundles/%x", c.base, a.BundleDigest)
	res, err := c.Registry().Publish(ctx, c.EVMChain.Chain, a)
	if err != nil {
		return nil, err
	}
	return &engine.Publication{Tx: res.TxHash.Hex(), Block: res.BlockNumber, GasUsed: res.GasUsed}, nil
}

// Env is one served, published cycle.
type Env struct {
	URL     string
	State   string
	Dir     string
	Account string
	Proof   string // the honest proof file
	Tamper  *atomic.Bool
	Out     string
	// Auditor is in the registry's auditor set (and funded); Countersign signs with it.
	Auditor *contracts.Chain
	reg     *contracts.Registry
}

// Countersign records the auditor's countersign of cycle on the registry, as
// `solvency contracts countersign` does.
func (e *Env) Countersign(t testing.TB, cycle uint64) {
	t.Helper()
	res, err := e.reg.Countersign(context.Background(), e.Auditor, cycle)
	if err != nil {
		t.Fatalf("countersign cycle %d: %v", cycle, err)
	}
	if res.AlreadySigned || res.CountersignsCount != 1 {
		t.Fatalf("countersign cycle %d: %+v", cycle, res)
	}
}

// fundedAuditor makes a fresh key and sends it enough ether from the dev account for a few
// transactions.
func fundedAuditor(ctx context.Context, t testing.TB, d *devnet.Devnet) *contracts.Chain {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cl := d.Client()
	ch, err := contracts.NewChain(ctx, cl, key)
	if err != nil {
		t.Fatal(err)
	}
	nonce, err := cl.PendingNonceAt(ctx, d.Address)
	if err != nil {
		t.Fatal(err)
	}
	to := ch.From()
	tx, err := types.SignNewTx(d.Key, types.LatestSignerForChainID(big.NewInt(devnet.ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(devnet.ChainID), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(100_000_000_000),
		Gas: 21000, To: &to, Value: new(big.Int).Mul(big.NewInt(1e18), big.NewInt(10)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	funder, err := contracts.NewChain(ctx, cl, d.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := funder.WaitMined(ctx, tx); err != nil {
		t.Fatal(err)
	}
	return ch
}

// repoRoot is the checkout's root (this package is web/browsertest).
func repoRoot(t testing.TB) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd))
}

func requireTools(t testing.TB) {
	t.Helper()
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing: run ./scripts/setup.sh (it installs Debian's chromium)", chromium)
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core")); err != nil {
		t.Fatal("web/browsertest/node_modules is missing: run ./scripts/setup.sh (npm ci from the lockfile)")
	}
}

// buildPage copies the page and builds its WebAssembly verifier beside it.
func buildPage(t testing.TB, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "page")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	err := fs.WalkDir(web.Page(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "verifier.wasm" || p == "wasm_exec.js" {
			return err
		}
		b, err := fs.ReadFile(web.Page(), p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(repoRoot(t), "web", "build-wasm.sh"), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the WebAssembly verifier: %v\n%s", err, b)
	}
	return out
}

// NewEnv runs the given number of cycles with users accounts on an embedded dev chain and serves it.
func NewEnv(t testing.TB, users, cycles int) *Env {
	t.Helper()
	requireTools(t)
	dir := t.TempDir()
	page := buildPage(t, dir)

	cfgPath, err := sample.WriteTo(filepath.Join(dir, "sample"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["accounts"] = map[string]any{"users": users, "seed": 3, "scaleTo": "liabilities.json"}
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := engine.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := devnet.Start(devnet.Config{DataDir: filepath.Join(dir, "chain"), HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx := context.Background()
	ch, err := contracts.NewChain(ctx, d.Client(), d.Key)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	evm := &engine.EVMChain{Chain: ch, AddrFile: filepath.Join(state, "addresses.json"), DevFeeds: true, Name: "browser-test devnet"}
	auditor := fundedAuditor(ctx, t, d)
	var log bytes.Buffer
	eng, err := engine.Open(ctx, cfg, engine.Options{StateDir: state, Log: &log,
		Chain: &httpPublish{EVMChain: evm, base: base, auditors: []common.Address{auditor.From()}}})
	if err != nil {
		t.Fatalf("open engine: %v\n%s", err, log.String())
	}
	if err := eng.Run(ctx, cycles, nil); err != nil {
		eng.Close()
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	liabDir := eng.LiabilitiesDir()
	eng.Close()

	st, err := liabilities.Open(liabDir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := firstProof(st)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{URL: base, State: state, Dir: dir, Account: p.AccountID, Tamper: new(atomic.Bool), Out: outDir(t),
		Auditor: auditor, reg: evm.Registry()}
	e.Proof = writeProof(t, dir, "honest", p)

	h, err := serve.New(serve.Options{StateDir: state, RPC: d.HTTPEndpoint(), Page: os.DirFS(page), Report: func() ([]byte, error) {
		rd, err := report.Load(state)
		if err != nil {
			return nil, err
		}
		return report.Render(rd)
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: tamper(h, e.Tamper)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return e
}

// tamper changes one byte of the second batch proof (or the only one) as served, when on: a
// bundle whose bytes changed at the URL.
func tamper(h http.Handler, on *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !on.Load() || !strings.HasSuffix(r.URL.Path, ".proof") || !strings.Contains(r.URL.Path, "/batches/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := &captured{header: http.Header{}}
		h.ServeHTTP(rec, r)
		b := rec.body.Bytes()
		if len(b) > 0 {
			b[len(b)/2] ^= 0x01
		}
		for k, v := range rec.header {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.code)
		w.Write(b)
	})
}

type captured struct {
	header http.Header
	body   bytes.Buffer
	code   int
}

func (c *captured) Header() http.Header { return c.header }
func (c *captured) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return c.body.Write(b)
}
func (c *captured) WriteHeader(code int) { c.code = code }

func outDir(t testing.TB) string {
	d := os.Getenv("SOLVENCY_BROWSERTEST_OUT")
	if d == "" {
		d = filepath.Join(repoRoot(t), "out", "browsertest")
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func writeProof(t testing.TB, dir, name string, p *liabilities.InclusionProof) string {
	t.Helper()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+"-proof.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// firstProof is the proof of the snapshot's first real (not padding) account.
func firstProof(st *liabilities.Store) (*liabilities.InclusionProof, error) {
	var last error
	for i := uint64(0); i < 64; i++ {
		p, err := st.ProofAt(i)
		if err == nil {
			return p, nil
		}
		last = err
	}
	return nil, last
}

// Outcome is what run.mjs reports.
type Outcome struct {
	Verdict     string   `json:"verdict"`
	Ms          float64  `json:"ms"`
	TotalMs     float64  `json:"totalMs"`
	Title       string   `json:"title"`
	Reason      string   `json:"reason"`
	Facts       string   `json:"facts"`
	Countersign string   `json:"countersign"` // the "reserves countersigned" row's text`
	SawProgress bool     `json:"sawProgress"`
	Console     []string `json:"console"`
	Error       string   `json:"error"`
	Charts      []struct {
		ID     string `json:"id"`
		Points int    `json:"points"`
	} `json:"charts"`
	Requests []struct {
		URL    string `json:"url"`
		Method string `json:"method"`
		Body   string `json:"body"`
	} `json:"requests"`
}

// Browse runs one scenario in chromium.
func Browse(t testing.TB, scenario map[string]any) *Outcome {
	t.Helper()
	arg, _ := json.Marshal(scenario)
	cmd := exec.Command("node", "run.mjs", string(arg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node run.mjs: %v\n%s\n%s", err, b, stderr.String())
	}
	var o Outcome
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &o); err != nil {
		t.Fatalf("run.mjs output %q: %v", b, err)
	}
	if o.Error != "" {
		t.Fatalf("browser: %s (console: %v)", o.Error, o.Console)
	}
	return &o
}

// TestBrowser runs the users' page and the report against one served state (setting it up
// costs most of the time).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser against proven cycles: run without -short")
	}
	e := NewEnv(t, 24, 2)
	t.Run("UsersPageVerdicts", func(t *testing.T) { usersPageVerdicts(t, e) })
	t.Run("ReportRenders", func(t *testing.T) { reportRenders(t, e) })
	// Last: it countersigns on chain, which the verdicts above must not see.
	t.Run("UsersPageShowsCountersign", func(t *testing.T) { usersPageShowsCountersign(t, e, 2) })
}

// usersPageShowsCountersign: the page says whether, and by whom, the cycle it matched was
// countersigned, read from the chain (events confirmed by the registry's storage). The user's
// snapshot is attested in cycles 1 and 2 and the page matches the latest, cycle 2: a countersign
// of cycle 1 alone leaves it "not countersigned"; once the auditor countersigns cycle 2 the page
// names the auditor. The verdict is "counted" throughout: a countersign is about the reserves.
func usersPageShowsCountersign(t *testing.T, e *Env, matched uint64) {
	browse := func(name string) *Outcome {
		t.Helper()
		o := Browse(t, map[string]any{"kind": "verify", "url": e.URL + "/verify/", "proof": e.Proof, "account": e.Account,
			"screenshot": filepath.Join(e.Out, "verdict-"+name+".png")})
		t.Logf("%s: %s in %.0f ms; %s", name, o.Verdict, o.Ms, o.Countersign)
		if o.Verdict != "counted" {
			t.Fatalf("%s: verdict %q (%s %s), want counted", name, o.Verdict, o.Title, o.Reason)
		}
		if !strings.Contains(o.Facts, fmt.Sprintf("cycle%d", matched)) {
			t.Fatalf("%s: the page did not match cycle %d: %s", name, matched, o.Facts)
		}
		return o
	}
	e.Countersign(t, matched-1)
	o := browse("countersigned-other-cycle")
	if !strings.Contains(o.Countersign, "not countersigned") {
		t.Errorf("cycle %d is not countersigned (only cycle %d is); the page shows %q", matched, matched-1, o.Countersign)
	}
	e.Countersign(t, matched)
	o = browse("countersigned")
	want := "countersigned by " + e.Auditor.From().Hex()
	if !strings.Contains(o.Countersign, want) || strings.Contains(o.Countersign, "not countersigned") {
		t.Errorf("after the auditor's countersign the page shows %q; want %q", o.Countersign, want)
	}
	if !strings.Contains(o.Facts, e.Auditor.From().Hex()) {
		t.Errorf("the facts do not name the auditor %s: %s", e.Auditor.From().Hex(), o.Facts)
	}
}

func reportRenders(t *testing.T, e *Env) {
	shot := filepath.Join(e.Out, "report.png")
	o := Browse(t, map[string]any{"kind": "report", "url": e.URL + "/report", "screenshot": shot})
	if len(o.Charts) != 6 {
		t.Fatalf("%d charts drawn, want 6", len(o.Charts))
	}
	for _, c := range o.Charts {
		if c.Points == 0 {
			t.Errorf("chart %s has no data", c.ID)
		}
	}
	for _, m := range o.Console {
		t.Errorf("console error: %s", m)
	}
	for _, r := range o.Requests {
		if !strings.HasPrefix(r.URL, e.URL+"/report") && !strings.HasPrefix(r.URL, "data:") {
			t.Errorf("the report is not self-contained: it requested %s", r.URL)
		}
	}
}

func usersPageVerdicts(t *testing.T, e *Env) {
	honest, err := os.ReadFile(e.Proof)
	if err != nil {
		t.Fatal(err)
	}
	var p liabilities.InclusionProof
	if err := json.Unmarshal(honest, &p); err != nil {
		t.Fatal(err)
	}

	changed := p
	changed.Balances = append([]liabilities.ProofBalance(nil), p.Balances...)
	// One unit more in the first balance (zero or not), amount and units kept consistent.
	b0 := changed.Balances[0]
	changed.Balances[0].Units = b0.Units + 1
	changed.Balances[0].Amount = assets.FormatUnits(new(big.Int).SetUint64(uint64(b0.Units)+1), p.Snapshot.Assets[0].Precision)
	changedPath := writeProof(t, e.Dir, "changed", &changed)

	// A genuine proof from another snapshot (the fixture's, never attested on this chain).
	fxDir := t.TempDir()
	fx, err := cyclefixture.New(fxDir)
	if err != nil {
		t.Fatal(err)
	}
	defer fx.Store.Close()
	other, err := firstProof(fx.Store)
	if err != nil {
		t.Fatal(err)
	}
	otherPath := writeProof(t, e.Dir, "other-snapshot", other)

	cases := []struct {
		name, proof, account, verdict, reason string
	}{
		{"counted", e.Proof, e.Account, "counted", "verified in full"},
		{"balance-changed-by-one-unit", changedPath, e.Account, "not-counted", "do not lead to the root"},
		{"proof-from-another-snapshot", otherPath, other.AccountID, "not-counted", "another snapshot"},
		{"wrong-typed-id", e.Proof, e.Account + "x", "not-counted", "not \"" + e.Account + "x\""},
		{"bundle-changed-at-url", e.Proof, e.Account, "not-counted", "the file was changed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.Tamper.Store(c.name == "bundle-changed-at-url")
			defer e.Tamper.Store(false)
			shot := filepath.Join(e.Out, "verdict-"+c.name+".png")
			o := Browse(t, map[string]any{"kind": "verify", "url": e.URL + "/verify/", "proof": c.proof, "account": c.account, "screenshot": shot})
			t.Logf("%s: %s in %.0f ms: %s %s", c.name, o.Verdict, o.Ms, o.Title, o.Reason)
			if o.Verdict != c.verdict {
				t.Fatalf("verdict %q (%s %s), want %q", o.Verdict, o.Title, o.Reason, c.verdict)
			}
			if !strings.Contains(o.Reason, c.reason) {
				t.Errorf("reason %q does not say %q", o.Reason, c.reason)
			}
			if _, err := os.Stat(shot); err != nil {
				t.Errorf("no screenshot: %v", err)
			}
			// Nothing the user gave leaves the page: no request carries the id or the salt.
			for _, r := range o.Requests {
				for _, secret := range []string{c.account, poseidon.Hex(p.Salt.Fr())[2:]} {
					if secret != "" && (strings.Contains(r.URL, secret) || strings.Contains(r.Body, secret)) {
						t.Errorf("request %s %s carries the user's id or salt", r.Method, r.URL)
					}
				}
			}
			if c.verdict == "counted" {
				if !o.SawProgress {
					t.Error("no progress was shown")
				}
				// Nobody has countersigned yet: the page says so (R1).
				if !strings.Contains(o.Countersign, "not countersigned") {
					t.Errorf("an uncountersigned cycle shows %q; want it to say \"not countersigned\"", o.Countersign)
				}
			} else if o.Countersign != "" {
				t.Errorf("a check that stopped before the chain match shows a countersign row: %q", o.Countersign)
			}
			if c.verdict == "counted" {
				for _, want := range []string{"cycle", "policy hash", "transaction", "snapshot taken"} {
					if !strings.Contains(o.Facts, want) {
						t.Errorf("the verdict does not show the %s", want)
					}
				}
			}
			for _, m := range o.Console {
				if !strings.Contains(m, "favicon") {
					t.Errorf("console error: %s", m)
				}
			}
		})
	}
}

// BenchmarkPageVerdict10k measures the users' page's time to a verdict (loading the verifier,
// reading the chain, fetching and verifying the whole bundle, the path) at 10,000 accounts in
// headless chromium. Setting it up proves 10,000 accounts once (minutes):
//
//	go test -run '^$' -bench PageVerdict10k -benchtime 3x ./web/browsertest
func BenchmarkPageVerdict10k(b *testing.B) { benchPage(b, 10000) }

func benchPage(b *testing.B, users int) {
	e := NewEnv(b, users, 1)
	var total float64
	for i := 0; b.Loop(); i++ {
		o := Browse(b, map[string]any{"kind": "verify", "url": e.URL + "/verify/", "proof": e.Proof, "account": e.Account,
			"screenshot": filepath.Join(e.Out, fmt.Sprintf("bench-%d-%d.png", users, i)), "timeoutMs": 600000})
		if o.Verdict != "counted" {
			b.Fatalf("verdict %s: %s", o.Verdict, o.Reason)
		}
		b.Logf("%d accounts: verdict in %.0f ms (page load to verdict %.0f ms): %s", users, o.Ms, o.TotalMs, o.Facts)
		total += o.Ms
	}
	b.ReportMetric(total/float64(b.N), "ms/verdict")
}
