// Package devnet runs a go-ethereum development chain inside this process, the way `geth --dev`
// does (go-ethereum's own node and eth service, post-merge, blocks sealed by the simulated
// beacon), with JSON-RPC over HTTP on loopback only and one funded developer account whose key is
// kept in a 0600 file. A newcomer needs nothing else installed to deploy and publish.
//
// It is a development chain: one node, no peers, a single funded key on disk. Never use it or its
// key for anything of value.
package devnet

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/eth/tracers"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rpc"

	// Registers the native tracers (callTracer) behind debug_trace* when Config.Debug is set.
	_ "github.com/ethereum/go-ethereum/eth/tracers/native"

	"github.com/solvency-dev/solvency/internal/atomicfile"
)

// KeyFileName is the developer key's file inside the data directory.
const KeyFileName = "dev.key"

// ChainID is the dev chain's id (go-ethereum's developer chain id).
const ChainID = 1337

// DefaultGasLimit is the block gas limit of a new dev chain.
const DefaultGasLimit = 60_000_000

// Config configures a dev chain.
type Config struct {
	// DataDir keeps the chain and the developer key across restarts; empty keeps everything in
	// memory (the key is then fresh each start).
	DataDir string
	// HTTPAddr is host:port for JSON-RPC over HTTP; the host must be a loopback address or
	// "localhost". Port 0 picks a free port (see Devnet.HTTPEndpoint). Empty serves no HTTP; use
	// Devnet.Client in process.
	HTTPAddr string
	// Period is the block period in seconds; 0 seals a block as soon as a transaction arrives.
	Period uint64
	// GasLimit is a new chain's block gas limit; DefaultGasLimit when zero.
	GasLimit uint64
	// Debug exposes the debug namespace (transaction tracing) over HTTP and in process.
	Debug bool
	// FutureForks keeps go-ethereum's full dev rule set, which activates unreleased forks
	// (Amsterdam, Bogota: EIP-8037 state gas, a new storage slot at about 98k gas). By default
	// the chain runs Ethereum mainnet's rules (through Osaka) so gas matches what a publisher
	// pays there.
	FutureForks bool
}

// Devnet is a running dev chain.
type Devnet struct {
	stack   *node.Node
	backend *eth.Ethereum
	beacon  *catalyst.SimulatedBeacon
	// Key is the funded developer account's private key; Address its address.
	Key     *ecdsa.PrivateKey
	Address common.Address
	// KeyFile is where the key is kept ("" for an in-memory chain).
	KeyFile  string
	http     bool
	syncDone chan struct{} // closed when the sync-on-head loop has stopped
	// syncMu orders syncs before the database closes (pebble panics on a closed database).
	syncMu sync.Mutex
	closed bool
}

// loopbackHostPort checks that addr listens on loopback only.
func loopbackHostPort(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("http address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("http address %q: bad port", addr)
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return "", 0, fmt.Errorf("http address %q: the dev chain serves loopback only (127.0.0.1, ::1 or localhost)", addr)
		}
	}
	return host, port, nil
}

// loadOrCreateKey reads the developer key from path, or creates it (0600) when absent.
func loadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := crypto.HexToECDSA(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(raw)), "0x")))
		if err != nil {
			return nil, fmt.Errorf("developer key %s: %w", path, err)
		}
		return key, nil
	case errors.Is(err, os.ErrNotExist):
		key, err := crypto.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("generate developer key: %w", err)
		}
		data := hex.EncodeToString(crypto.FromECDSA(key)) + "\n"
		if err := atomicfile.WriteFile(path, []byte(data), 0o600); err != nil {
			return nil, fmt.Errorf("write developer key: %w", err)
		}
		return key, nil
	default:
		return nil, fmt.Errorf("read developer key: %w", err)
	}
}

// Start starts a dev chain. Close it to stop.
func Start(cfg Config) (d *Devnet, err error) {
	nodeConf := node.DefaultConfig
	nodeConf.Name = "solvency-devnet"
	nodeConf.DataDir = cfg.DataDir
	nodeConf.IPCPath = ""
	nodeConf.AuthPort = 0
	nodeConf.WSHost = ""
	nodeConf.HTTPHost = ""
	nodeConf.P2P = p2p.Config{NoDiscovery: true, MaxPeers: 0, ListenAddr: ""}
	modules := []string{"eth", "net", "web3"}
	if cfg.Debug {
		modules = append(modules, "debug")
	}
	if cfg.HTTPAddr != "" {
		host, port, err := loopbackHostPort(cfg.HTTPAddr)
		if err != nil {
			return nil, err
		}
		nodeConf.HTTPHost = host
		nodeConf.HTTPPort = port
		nodeConf.HTTPModules = modules
		nodeConf.HTTPVirtualHosts = []string{"localhost"}
	}

	var key *ecdsa.PrivateKey
	keyFile := ""
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		if err := checkWritable(cfg.DataDir); err != nil {
			return nil, err
		}
		keyFile = filepath.Join(cfg.DataDir, KeyFileName)
		if key, err = loadOrCreateKey(keyFile); err != nil {
			return nil, err
		}
	} else if key, err = crypto.GenerateKey(); err != nil {
		return nil, fmt.Errorf("generate developer key: %w", err)
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)

	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("dev chain node: %w", err)
	}
	defer func() {
		if err != nil {
			stack.Close()
		}
	}()
	gasLimit := cfg.GasLimit
	if gasLimit == 0 {
		gasLimit = DefaultGasLimit
	}
	ethConf := ethconfig.Defaults
	ethConf.NetworkId = ChainID
	ethConf.SyncMode = ethconfig.FullSync
	// Archive mode on the hash scheme writes every block's state through to the database, so a
	// process killed mid-cycle (kill -9) restarts at its last block instead of rewinding to the
	// last periodic flush. That alone is not enough: the database writes are asynchronous, and
	// the receipt wrapper below syncs them before a transaction is reported mined (verified by
	// TestKillNineKeepsMinedBlocks, which loses blocks without it). A dev chain's state is small
	// enough for both to cost nothing noticeable.
	ethConf.StateScheme = "hash"
	ethConf.NoPruning = true
	// The genesis is a function of the developer address and the gas limit only, so a restart
	// on the same data directory (same key) finds the same genesis in its database.
	ethConf.Genesis = core.DeveloperGenesisBlock(gasLimit, &addr)
	if !cfg.FutureForks {
		rules := *ethConf.Genesis.Config
		rules.AmsterdamTime, rules.BogotaTime, rules.UBTTime = nil, nil, nil
		ethConf.Genesis.Config = &rules
	}
	ethConf.Miner.PendingFeeRecipient = addr
	ethConf.Miner.GasPrice = big.NewInt(1)
	backend, err := eth.New(stack, &ethConf)
	var mismatch *core.GenesisMismatchError
	if errors.As(err, &mismatch) {
		return nil, fmt.Errorf("dev chain: %w (this data directory holds a chain made with another developer key or version)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("dev chain: %w", err)
	}
	filterSystem := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(filterSystem)}})
	if cfg.Debug {
		stack.RegisterAPIs(tracers.APIs(backend.APIBackend))
	}
	beacon, err := catalyst.NewSimulatedBeacon(cfg.Period, addr, backend)
	if err != nil {
		return nil, fmt.Errorf("dev chain beacon: %w", err)
	}
	catalyst.RegisterSimulatedBeaconAPIs(stack, beacon)
	stack.RegisterLifecycle(beacon)
	if err := registerDurableReceipts(stack, backend); err != nil {
		return nil, err
	}
	if err := stack.Start(); err != nil {
		return nil, fmt.Errorf("start dev chain: %w", err)
	}
	d = &Devnet{stack: stack, backend: backend, beacon: beacon, Key: key, Address: addr, KeyFile: keyFile,
		http: cfg.HTTPAddr != "", syncDone: make(chan struct{})}
	d.syncOnHead()
	return d, nil
}

// receiptAPI is go-ethereum's eth_getTransactionReceipt (its service type is internal).
type receiptAPI interface {
	GetTransactionReceipt(ctx context.Context, hash common.Hash) (map[string]any, error)
}

// durableReceipts serves eth_getTransactionReceipt, syncing the chain database to disk before a
// receipt is reported. go-ethereum writes its database asynchronously (pebble keeps the tail of
// its write-ahead log in process memory until a block of it fills or a sync is asked for), so
// without this a kill -9 loses the last few blocks, and with them transactions a client was
// told were mined. A receipt is the signal every client (this repo's included) waits for.
type durableReceipts struct {
	api receiptAPI
	db  ethdb.KeyValueSyncer
}

// GetTransactionReceipt reports a receipt only once its block is on disk.
func (r *durableReceipts) GetTransactionReceipt(ctx context.Context, hash common.Hash) (map[string]any, error) {
	rcpt, err := r.api.GetTransactionReceipt(ctx, hash)
	if err != nil || rcpt == nil {
		return rcpt, err
	}
	if err := r.db.SyncKeyValue(); err != nil {
		return nil, fmt.Errorf("dev chain: write the block of %s to disk: %w", hash.Hex(), err)
	}
	return rcpt, nil
}

// registerDurableReceipts replaces eth_getTransactionReceipt (a later registration of a method
// name in the same namespace replaces the earlier one) for HTTP and in-process clients alike.
func registerDurableReceipts(stack *node.Node, backend *eth.Ethereum) error {
	for _, api := range backend.APIs() {
		if ra, ok := api.Service.(receiptAPI); ok && api.Namespace == "eth" {
			stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: &durableReceipts{api: ra, db: backend.ChainDb()}}})
			return nil
		}
	}
	return errors.New("dev chain: go-ethereum serves no eth_getTransactionReceipt to wrap")
}

// syncOnHead also syncs the database after every new head, so that a client that never asks
// for a receipt (it reads the block number, or logs) loses at most the last few milliseconds.
func (d *Devnet) syncOnHead() {
	heads := make(chan core.ChainHeadEvent, 16)
	sub := d.backend.BlockChain().SubscribeChainHeadEvent(heads)
	go func() {
		defer close(d.syncDone)
		defer sub.Unsubscribe()
		for {
			select {
			case <-heads:
				_ = d.Sync() // a failure shows at the next receipt
			case <-sub.Err():
				return
			}
		}
	}()
}

// Sync writes everything the chain has accepted so far to disk.
func (d *Devnet) Sync() error {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	if d.closed {
		return errors.New("dev chain: closed")
	}
	if err := d.backend.ChainDb().SyncKeyValue(); err != nil {
		return fmt.Errorf("dev chain: sync to disk: %w", err)
	}
	return nil
}

// HTTPEndpoint is the JSON-RPC URL ("" when HTTP is off), with the real port when 0 was asked.
func (d *Devnet) HTTPEndpoint() string {
	if !d.http {
		return ""
	}
	return d.stack.HTTPEndpoint()
}

// Client returns an in-process client (no network).
func (d *Devnet) Client() *ethclient.Client { return ethclient.NewClient(d.stack.Attach()) }

// RPC returns an in-process raw RPC client (for debug_ calls).
func (d *Devnet) RPC() *rpc.Client { return d.stack.Attach() }

// Commit seals a block now, whatever the period.
func (d *Devnet) Commit() common.Hash { return d.beacon.Commit() }

// Head returns the current block number.
func (d *Devnet) Head() uint64 { return d.backend.BlockChain().CurrentBlock().Number.Uint64() }

// Close stops the chain and flushes it to the data directory.
func (d *Devnet) Close() error {
	d.syncMu.Lock()
	d.closed = true
	d.syncMu.Unlock()
	err := d.stack.Close()
	<-d.syncDone
	if err != nil {
		return fmt.Errorf("stop dev chain: %w", err)
	}
	return nil
}

// checkWritable reports a data directory this process cannot write as such: go-ethereum's own
// errors for it name a lock or database file and read like damage, and the chain in it is fine.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".write-check.tmp-*")
	if err != nil {
		if errors.Is(err, syscall.EROFS) || errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("dev chain data directory %s is read-only or not writable by this user (%v): make it writable; the chain in it is intact", dir, err)
		}
		return fmt.Errorf("dev chain data directory %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// FatalLogHandler prints go-ethereum's fatal records (it exits the process right after one, for
// instance when a database write fails on a full disk; by default it prints nothing) to w, with
// what to do next. Install it with log.SetDefault(log.NewLogger(FatalLogHandler(os.Stderr))).
func FatalLogHandler(w io.Writer) slog.Handler {
	return &fatalHandler{Handler: log.NewTerminalHandlerWithLevel(w, log.LevelCrit, false), w: w}
}

type fatalHandler struct {
	slog.Handler
	w io.Writer
}

func (h *fatalHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	fmt.Fprintln(h.w, "solvency: the dev chain stopped on the error above. If the disk is full, free some space and run the "+
		"same command again: every block the chain reported is on disk, and the run resumes where it stopped.")
	return err
}

func (h *fatalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &fatalHandler{Handler: h.Handler.WithAttrs(as), w: h.w}
}

func (h *fatalHandler) WithGroup(name string) slog.Handler {
	return &fatalHandler{Handler: h.Handler.WithGroup(name), w: h.w}
}
