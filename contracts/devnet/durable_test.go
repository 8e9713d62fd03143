package devnet

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/log"
)

// sendAndWait sends a value transfer and polls for its receipt, as a publisher does.
func sendAndWait(ctx context.Context, d *Devnet, cl *ethclient.Client, nonce uint64) (*types.Receipt, error) {
	to := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	tx, err := types.SignNewTx(d.Key, types.LatestSignerForChainID(big.NewInt(ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(ChainID), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(10_000_000_000),
		Gas: 21000, To: &to, Value: big.NewInt(1),
	})
	if err != nil {
		return nil, err
	}
	if err := cl.SendTransaction(ctx, tx); err != nil {
		return nil, err
	}
	for {
		r, err := cl.TransactionReceipt(ctx, tx.Hash())
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "indexing is in progress") {
			return nil, err
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestDurableChild mines transactions on a persistent dev chain and kills itself (SIGKILL) the
// moment the last receipt is reported, printing each mined block number first.
func TestDurableChild(t *testing.T) {
	dir := os.Getenv("DEVNET_DURABLE_DIR")
	if dir == "" {
		t.Skip("child of TestKillNineKeepsMinedBlocks")
	}
	d, err := Start(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cl := d.Client()
	nonce, err := cl.NonceAt(ctx, d.Address, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(3) {
		r, err := sendAndWait(ctx, d, cl, nonce+i)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("MINED %d %s\n", r.BlockNumber.Uint64(), r.TxHash.Hex())
	}
	os.Stdout.Sync()
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
}

// TestKillNineKeepsMinedBlocks: a transaction whose receipt the dev chain reported is still on
// the chain after the process is killed with SIGKILL and the chain restarted (go-ethereum
// buffers its database log in memory; the dev chain syncs it before it reports a receipt).
func TestKillNineKeepsMinedBlocks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "chain")
	for trial := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestDurableChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "DEVNET_DURABLE_DIR="+dir)
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); !ok || !strings.Contains(ee.String(), "killed") {
			t.Fatalf("child was not killed (err %v):\n%s", err, out)
		}
		var last uint64
		var hashes []common.Hash
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "MINED" {
				last, _ = strconv.ParseUint(f[1], 10, 64)
				hashes = append(hashes, common.HexToHash(f[2]))
			}
		}
		if len(hashes) != 3 {
			t.Fatalf("trial %d: child reported %d receipts:\n%s", trial, len(hashes), out)
		}
		d, err := Start(Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		cl := d.Client()
		head := d.Head()
		for _, h := range hashes {
			if _, err := cl.TransactionReceipt(context.Background(), h); err != nil {
				d.Close()
				t.Fatalf("trial %d: receipt of %s reported before the kill is gone after it (head %d, last mined %d): %v", trial, h.Hex(), head, last, err)
			}
		}
		if head < last {
			d.Close()
			t.Fatalf("trial %d: head %d after restart; block %d was reported mined", trial, head, last)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFatalLogHandlerSaysWhatToDo: go-ethereum's fatal record (a failed block write on a full
// disk, just before it exits) is printed with what to do next, instead of a silent exit.
func TestFatalLogHandlerSaysWhatToDo(t *testing.T) {
	var buf strings.Builder
	l := log.NewLogger(FatalLogHandler(&buf))
	l.Write(log.LevelCrit, "Failed to write block into disk", "err", "write /x/000123.log: no space left on device")
	l.Write(log.LevelError, "an ordinary error", "err", "x")
	out := buf.String()
	if !strings.Contains(out, "Failed to write block into disk") || !strings.Contains(out, "no space left on device") ||
		!strings.Contains(out, "free some space and run the same command again") {
		t.Fatalf("fatal record printed as:\n%s", out)
	}
	if strings.Contains(out, "ordinary") {
		t.Fatalf("a non-fatal record was printed:\n%s", out)
	}
}
