package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/bench"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/treasury/sample"
	"github.com/solvency-dev/solvency/treasury/state"
)

// The crash children of TestV6_KillNineBetweenPublishAndCountersign, selected by
// COUNTERSIGN_CRASH_ROLE, with the test's directory in COUNTERSIGN_CRASH_DIR:
//   - "run": the operator's `solvency run --cycles 1` (runRun, the command's run function, with
//     the engine's crash hook), SIGKILLed at the engine's "published" point: the publish
//     transaction is mined and nothing after it has happened (the state does not record it).
//   - "countersign": the auditor's `solvency contracts countersign --cycle 1` through the real
//     command line, SIGKILLed at its first write to stdout: the countersign transaction is mined
//     and the command has not said so.
func TestCountersignCrashChild(t *testing.T) {
	dir := os.Getenv("COUNTERSIGN_CRASH_DIR")
	if dir == "" {
		t.Skip("crash child: run by TestV6_KillNineBetweenPublishAndCountersign")
	}
	kill := func() {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way: nothing after it may run
	}
	switch role := os.Getenv("COUNTERSIGN_CRASH_ROLE"); role {
	case "run":
		o := operatorRun(dir)
		o.fault = func(point string) error {
			if point == "published" {
				kill()
			}
			return nil
		}
		err := runRun(context.Background(), os.Stdout, os.Stderr, o)
		t.Fatalf("the run ended without reaching the published point: %v", err)
	case "countersign":
		code := runRoot(newRootCmd(), auditorCountersignArgs(dir, os.Getenv("COUNTERSIGN_CRASH_RPC")),
			writerFunc(func([]byte) (int, error) { kill(); return 0, nil }), os.Stderr)
		t.Fatalf("countersign ended (exit %d) without writing its output", code)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// operatorRun is `solvency run --config DIR/sample/config.json --cycles 1 --state DIR/state
// --keys DIR/keys`.
func operatorRun(dir string) *runOptions {
	return &runOptions{config: filepath.Join(dir, "sample", "config.json"), cycles: 1, state: filepath.Join(dir, "state"),
		keys: filepath.Join(dir, "keys")}
}

func auditorCountersignArgs(dir, rpc string) []string {
	return []string{"contracts", "countersign", "--cycle", "1", "--rpc", rpc, "--key", filepath.Join(dir, "auditor.key"),
		"--addresses", filepath.Join(dir, "state", "addresses.json")}
}

// crashChild runs one crash child, requires that it died of SIGKILL, and returns its output.
func crashChild(t *testing.T, dir, role, rpc string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCountersignCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "COUNTERSIGN_CRASH_DIR="+dir, "COUNTERSIGN_CRASH_ROLE="+role, "COUNTERSIGN_CRASH_RPC="+rpc)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || !strings.Contains(ee.String(), "killed") {
		t.Fatalf("%s child was not killed (err %v):\n%s", role, err, out)
	}
	return string(out)
}

// chainView is what the registry and the chain say about cycle 1 and the two keys.
type chainView struct {
	Count          uint64 // registry.attestationCount
	Held           bool   // attestationHash(1) is set
	Events         int    // AttestationPublished events, each checked against storage
	PublishTx      common.Hash
	Countersigned  bool // countersigned(1, auditor)
	Countersigns   int  // Countersigned events of cycle 1, confirmed by storage and counted
	OperatorNonce  uint64
	AuditorNonce   uint64
	CountersignRec []contracts.Countersign
}

func readChainView(t *testing.T, d *devnet.Devnet, addrFile string, operator, auditor common.Address) chainView {
	t.Helper()
	ctx := context.Background()
	a, err := contracts.ReadAddresses(addrFile)
	if err != nil {
		t.Fatal(err)
	}
	cl := d.Client()
	defer cl.Close()
	reg, err := a.Bind(cl)
	if err != nil {
		t.Fatal(err)
	}
	var v chainView
	l, err := reg.LatestAttestation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v.Count = l.Count
	h, err := reg.AttestationHash(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	v.Held = h != common.Hash{}
	recs, err := reg.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v.Events = len(recs)
	if len(recs) > 0 {
		v.PublishTx = recs[0].TxHash
	}
	if v.Countersigned, err = reg.Countersigned(ctx, 1, auditor); err != nil {
		t.Fatal(err)
	}
	if v.CountersignRec, err = reg.Countersigns(ctx, 1); err != nil {
		t.Fatal(err)
	}
	v.Countersigns = len(v.CountersignRec)
	if v.OperatorNonce, err = cl.NonceAt(ctx, operator, nil); err != nil {
		t.Fatal(err)
	}
	if v.AuditorNonce, err = cl.NonceAt(ctx, auditor, nil); err != nil {
		t.Fatal(err)
	}
	return v
}

// recordedStage is the stage the operator's state records for cycle 1.
func recordedStage(t *testing.T, dir string) string {
	t.Helper()
	st, err := state.Open(filepath.Join(dir, "state", "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.Record(1)
	if err != nil {
		t.Fatal(err)
	}
	return r.Stage.String()
}

// TestV6_KillNineBetweenPublishAndCountersign (issue 19): on the embedded chain the operator's
// `solvency run` publishes cycle 1 and is killed with SIGKILL the moment the publish is mined,
// before it records anything; the auditor's `contracts countersign --cycle 1` is killed after its
// transaction is mined, before it prints; each is run again. The registry holds cycle 1 exactly
// once (attestationCount, one event), countersigned exactly once by that auditor (one event, the
// storage flag and count), and neither rerun sends a transaction (both keys' nonces unchanged).
func TestV6_KillNineBetweenPublishAndCountersign(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits and kills processes: run without -short")
	}
	ctx := context.Background()
	dir := t.TempDir()
	st := filepath.Join(dir, "state")
	chainDir := filepath.Join(st, "chain")
	t0 := time.Now()
	step := func(what string) { t.Logf("%6.1fs  %s", time.Since(t0).Seconds(), what) }

	// The sample treasury with 8 accounts (one batch of the demo profile), and development keys
	// for that profile from the shared circuit cache, passed to every run with --keys.
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
	m["accounts"] = map[string]any{"users": 8, "seed": 5, "scaleTo": "liabilities.json"}
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	prof, err := profile.Lookup(m["profile"].(string))
	if err != nil {
		t.Fatal(err)
	}
	cacheDir, err := circuitcache.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	k, err := bench.DevKeys(profile.Circuits(), prof, circuitcache.Cache{Dir: cacheDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var circuits []*keys.Circuit
	for _, c := range k.Circuits {
		circuits = append(circuits, c)
	}
	if err := keys.Save(filepath.Join(dir, "keys"), keys.DevMetadata(prof), circuits, false); err != nil {
		t.Fatal(err)
	}
	step("keys made")

	// The operator deploys on the embedded chain with an auditor in the registry's set (the
	// engine's own deployment names none, and adding one waits the governance delay):
	// `solvency contracts deploy --dev-feeds --auditors A --out STATE/addresses.json`, then
	// `solvency run --state STATE` attaches to it.
	if err := os.MkdirAll(st, 0o700); err != nil {
		t.Fatal(err)
	}
	auditorKey, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	auditor := crypto.PubkeyToAddress(auditorKey.PublicKey)
	if err := os.WriteFile(filepath.Join(dir, "auditor.key"), []byte(hex.EncodeToString(crypto.FromECDSA(auditorKey))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	startChain := func() *devnet.Devnet {
		t.Helper()
		d, err := devnet.Start(devnet.Config{DataDir: chainDir, HTTPAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := startChain()
	operator := d.Address
	fund(ctx, t, d, auditor)
	var out, errOut bytes.Buffer
	if code := runRoot(newRootCmd(), []string{"contracts", "deploy", "--rpc", d.HTTPEndpoint(), "--key", d.KeyFile,
		"--keys", filepath.Join(dir, "keys"), "--assets", fmt.Sprint(prof.Assets), "--dev-feeds", "--heartbeat", "24h",
		"--auditors", auditor.Hex(), "--out", filepath.Join(st, "addresses.json")}, &out, &errOut); code != 0 {
		t.Fatalf("contracts deploy: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	d.Close()
	step("deployed with auditor " + auditor.Hex())

	// 1. The operator's run is killed right after the publish is mined.
	crashChild(t, dir, "run", "")
	step("operator's run killed after publish")
	if s := recordedStage(t, dir); s == "published" {
		t.Fatalf("the state records cycle 1 as %s: the kill came after the record, not right after the publish", s)
	}
	d = startChain()
	v := readChainView(t, d, filepath.Join(st, "addresses.json"), operator, auditor)
	if v.Count != 1 || !v.Held || v.Events != 1 || v.Countersigned || v.Countersigns != 0 {
		t.Fatalf("after the killed run: %+v; want cycle 1 published once, not countersigned", v)
	}

	// 2. The auditor's countersign is killed after its transaction is mined, before its output.
	if out := crashChild(t, dir, "countersign", d.HTTPEndpoint()); strings.Contains(out, "countersigned cycle") ||
		strings.Contains(out, "countersign(s) recorded") {
		t.Fatalf("the countersign child printed its result before it was killed:\n%s", out)
	}
	step("auditor's countersign killed after sending, before its output")
	v1 := readChainView(t, d, filepath.Join(st, "addresses.json"), operator, auditor)
	if !v1.Countersigned || v1.Countersigns != 1 || v1.AuditorNonce != 1 || v1.CountersignRec[0].Auditor != auditor {
		t.Fatalf("after the killed countersign: %+v; want one countersign by %s, sent once", v1, auditor.Hex())
	}

	// 3. The auditor runs the same command again: it sees its countersign and sends nothing.
	out.Reset()
	errOut.Reset()
	if code := runRoot(newRootCmd(), auditorCountersignArgs(dir, d.HTTPEndpoint()), &out, &errOut); code != 0 {
		t.Fatalf("countersign rerun: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	step("auditor's rerun: " + strings.TrimSpace(strings.Split(out.String(), "\n")[0]))
	if !strings.Contains(out.String(), "already countersigned by "+auditor.Hex()+"; nothing sent") ||
		!strings.Contains(out.String(), "1 countersign(s) recorded for cycle 1") {
		t.Errorf("countersign rerun says:\n%s", out.String())
	}
	v2 := readChainView(t, d, filepath.Join(st, "addresses.json"), operator, auditor)
	if v2.AuditorNonce != v1.AuditorNonce || v2.Countersigns != 1 {
		t.Fatalf("the countersign rerun sent a transaction: nonce %d -> %d, %d countersigns", v1.AuditorNonce, v2.AuditorNonce, v2.Countersigns)
	}
	d.Close()

	// 4. The operator runs the same command again: the registry already holds cycle 1, so it
	// records the publish the chain holds (the killed run's transaction) and sends nothing.
	out.Reset()
	errOut.Reset()
	if err := runRun(ctx, &out, &errOut, operatorRun(dir)); err != nil {
		t.Fatalf("operator's rerun: %v\n%s%s", err, out.String(), errOut.String())
	}
	step("operator's rerun done")
	if !strings.Contains(out.String(), "published         tx "+v2.PublishTx.Hex()) {
		t.Errorf("the rerun's summary does not name the killed run's publish %s:\n%s", v2.PublishTx.Hex(), out.String())
	}
	if s := recordedStage(t, dir); s != "published" {
		t.Errorf("after the rerun the state records cycle 1 as %s", s)
	}
	d = startChain()
	defer d.Close()
	v3 := readChainView(t, d, filepath.Join(st, "addresses.json"), operator, auditor)
	t.Logf("operator nonce %d before the rerun, %d after; auditor nonce %d; attestationCount %d, publish events %d, countersigns %d",
		v2.OperatorNonce, v3.OperatorNonce, v3.AuditorNonce, v3.Count, v3.Events, v3.Countersigns)
	if v3.OperatorNonce != v2.OperatorNonce {
		t.Errorf("the operator's rerun sent %d transaction(s)", v3.OperatorNonce-v2.OperatorNonce)
	}
	if v3.Count != 1 || !v3.Held || v3.Events != 1 {
		t.Errorf("cycle 1 is not published exactly once: %+v", v3)
	}
	if !v3.Countersigned || v3.Countersigns != 1 || v3.CountersignRec[0].Auditor != auditor || v3.AuditorNonce != 1 {
		t.Errorf("cycle 1 is not countersigned exactly once by %s: %+v", auditor.Hex(), v3)
	}
}

// fund sends the auditor ether from the dev account for its transactions.
func fund(ctx context.Context, t *testing.T, d *devnet.Devnet, to common.Address) {
	t.Helper()
	cl := d.Client()
	defer cl.Close()
	nonce, err := cl.PendingNonceAt(ctx, d.Address)
	if err != nil {
		t.Fatal(err)
	}
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
	ch, err := contracts.NewChain(ctx, cl, d.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.WaitMined(ctx, tx); err != nil {
		t.Fatal(err)
	}
}
