package workqueue_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/solvency-dev/solvency/bench"
	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/prover/workqueue"
	"github.com/solvency-dev/solvency/verifier"
)

// The test binary doubles as a worker process and as a coordinator process (so that either can
// be killed with SIGKILL): these variables select the role.
const (
	envRole  = "WORKQUEUE_TEST_ROLE" // "worker" or "coordinator"
	envURL   = "WORKQUEUE_TEST_URL"
	envName  = "WORKQUEUE_TEST_NAME"
	envCache = "WORKQUEUE_TEST_CACHE"
	envKeys  = "WORKQUEUE_TEST_KEYS"
	envSnap  = "WORKQUEUE_TEST_SNAP"
	envDir   = "WORKQUEUE_TEST_PROOFS"
)

// fixture: the test profile (batches of 8), 40 accounts in 5 batches, keys saved and loaded as the CLI does, and a
// second, unrelated set of keys for the same circuit.
type fixture struct {
	dir      string
	profile  profile.Profile
	keysDir  string
	keys     *keys.Keys
	other    *keys.Keys
	pins     bundle.Pins
	data     *bench.Dataset
	snapDir  string
	store    *liabilities.Store
	batchKey *keys.Circuit
}

var fx *fixture

const users = 40

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "worker":
		os.Exit(workerMain())
	case "coordinator":
		os.Exit(coordinatorMain())
	}
	dir, err := os.MkdirTemp("", "workqueue-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	f, err := newFixture(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixture:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	fx = f
	code := m.Run()
	f.store.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func cacheDir() string {
	if d := os.Getenv("SOLVENCY_CACHE"); d != "" {
		return filepath.Join(d, "circuits")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "solvency", "circuits")
	}
	return ""
}

func newFixture(dir string) (*fixture, error) {
	p, err := profile.Lookup("test")
	if err != nil {
		return nil, err
	}
	f := &fixture{dir: dir, profile: p, keysDir: filepath.Join(dir, "keys")}
	cache := circuitcache.Cache{Dir: cacheDir()}
	k, err := bench.DevKeys(profile.Circuits(), p, cache, nil)
	if err != nil {
		return nil, err
	}
	var circuits []*keys.Circuit
	for _, c := range k.Circuits {
		circuits = append(circuits, c)
	}
	if err := keys.Save(f.keysDir, keys.DevMetadata(p), circuits, false); err != nil {
		return nil, err
	}
	if f.keys, err = keys.Load(f.keysDir); err != nil {
		return nil, err
	}
	batchSpec, err := spec(prover.BatchCircuit)
	if err != nil {
		return nil, err
	}
	if f.other, err = bench.DevKeys(batchSpec, p, cache, nil); err != nil {
		return nil, err
	}
	f.pins = bench.Pins(f.keys)
	if f.batchKey, err = f.keys.Get(prover.BatchCircuit); err != nil {
		return nil, err
	}
	if f.data, err = bench.Generate(p, users, 1, bench.Coverage); err != nil {
		return nil, err
	}
	snap, err := liabilities.Build(context.Background(), f.data.Table, f.data.Accounts,
		liabilities.BuildOptions{Epoch: 5, SnapshotTime: 1764000000, Height: p.BatchHeight})
	if err != nil {
		return nil, err
	}
	f.snapDir = filepath.Join(dir, "snap")
	if err := snap.WriteDir(f.snapDir, false, nil); err != nil {
		return nil, err
	}
	if f.store, err = liabilities.Open(f.snapDir); err != nil {
		return nil, err
	}
	return f, nil
}

func spec(name string) ([]profile.CircuitSpec, error) {
	for _, s := range profile.Circuits() {
		if s.Name == name {
			return []profile.CircuitSpec{s}, nil
		}
	}
	return nil, fmt.Errorf("no circuit %s is registered", name)
}

// request is a cycle request for the fixture's data into a fresh bundle under dir.
func (f *fixture) request(dir string, batches prover.BatchBackend) *prover.CycleRequest {
	return &prover.CycleRequest{
		Keys: f.keys, Store: f.store, ProofDir: filepath.Join(dir, "proofs"),
		Policy: f.data.Policy, Positions: f.data.Positions, Prices: f.data.Prices,
		Cycle: 9, ReservesBlock: 21000000, Out: filepath.Join(dir, "bundle"), Replace: true,
		Batches: batches,
	}
}

// workerMain runs one worker process: it fetches keys from the server's keys bucket into its own
// cache and prints every event as a JSON line on stdout.
func workerMain() int {
	nc, err := workqueue.Connect(os.Getenv(envURL), workqueue.ConnectOptions{Name: os.Getenv(envName)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer nc.Close()
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	w := &workqueue.Worker{Conn: nc, Name: os.Getenv(envName), CacheDir: os.Getenv(envCache),
		Events: func(ev workqueue.Event) { mu.Lock(); enc.Encode(ev); mu.Unlock() }}
	if err := w.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// coordinatorMain proves a snapshot's batches through the queue, printing events.
func coordinatorMain() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 2 }
	nc, err := workqueue.Connect(os.Getenv(envURL), workqueue.ConnectOptions{Name: "coordinator"})
	if err != nil {
		return fail(err)
	}
	defer nc.Close()
	k, err := keys.Load(os.Getenv(envKeys))
	if err != nil {
		return fail(err)
	}
	bk, err := k.Get(prover.BatchCircuit)
	if err != nil {
		return fail(err)
	}
	st, err := liabilities.Open(os.Getenv(envSnap))
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	c := &workqueue.Coordinator{Conn: nc, Circuit: bk, UploadKeys: true, AckWait: 2 * time.Second,
		Events: func(ev workqueue.Event) { mu.Lock(); enc.Encode(ev); mu.Unlock() }}
	if _, err := prover.ProveLiabilities(context.Background(), st, os.Getenv(envDir), bk.CCS, bk.PK, bk.VK, 0, nil, c); err != nil {
		return fail(err)
	}
	return 0
}

// proc is a child process of the test binary whose stdout events are collected.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	evs  []workqueue.Event
	done chan struct{}
	// onEvent, if set, sees each event as it arrives.
	onEvent func(workqueue.Event)
}

func startProc(t *testing.T, name string, env ...string) *proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, envName+"="+name)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev workqueue.Event
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			p.mu.Lock()
			p.evs = append(p.evs, ev)
			cb := p.onEvent
			p.mu.Unlock()
			if cb != nil {
				cb(ev)
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return p
}

func (p *proc) events() []workqueue.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]workqueue.Event(nil), p.evs...)
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	_ = p.cmd.Wait()
	<-p.done
}

func startWorkers(t *testing.T, url string, n int) []*proc {
	var ps []*proc
	for k := range n {
		name := fmt.Sprintf("w%d", k)
		ps = append(ps, startProc(t, name, envRole+"=worker", envURL+"="+url, envCache+"="+filepath.Join(t.TempDir(), "keys")))
	}
	return ps
}

func startServer(t *testing.T) *workqueue.Server {
	t.Helper()
	srv, err := workqueue.StartServer(workqueue.ServerConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func coordinator(t *testing.T, srv *workqueue.Server, events func(workqueue.Event)) *workqueue.Coordinator {
	t.Helper()
	nc, err := srv.Connect("coordinator")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return &workqueue.Coordinator{Conn: nc, Circuit: fx.batchKey, UploadKeys: true, AckWait: 2 * time.Second, Events: events}
}

func verifyBundle(t *testing.T, dir string) {
	t.Helper()
	rep, err := verifier.VerifyBundle(dir, fx.pins, verifier.Options{})
	if err != nil {
		t.Fatalf("verify bundle: %v", err)
	}
	if f := rep.Failed(); f != nil || !rep.Valid {
		t.Fatalf("bundle invalid: %+v", f)
	}
}

// proved counts "proved" events per batch index over processes.
func proved(ps ...*proc) map[int]int {
	c := map[int]int{}
	for _, p := range ps {
		for _, ev := range p.events() {
			if ev.Event == "proved" {
				c[ev.Index]++
			}
		}
	}
	return c
}
