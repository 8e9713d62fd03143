package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the CLI in-process as the `solvency` command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"solvency": func() { os.Exit(run(os.Args[1:])) },
		// rss-launcher runs `solvency ARGS` as its own child and prints that child's peak RSS:
		// a child of this (large) test process would report the test process's peak instead,
		// because Linux carries the pre-exec high-water mark across exec.
		"rss-launcher": rssLauncher,
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Scripts reach repository fixtures through $REPO.
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			repo := filepath.Join(wd, "..", "..")
			env.Setenv("REPO", repo)
			// Scripts run in a temporary directory: the pinned solc is found through the checkout.
			env.Setenv("SOLVENCY_CONTRACTS_DIR", filepath.Join(repo, "contracts"))
			// A free loopback port for a script's `solvency devnet`.
			addr, err := freeLoopbackAddr()
			if err != nil {
				return err
			}
			env.Setenv("DEVNET_ADDR", addr)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitrpc": cmdWaitRPC,
			"jsonget": cmdJSONGet,
		},
	})
}

// freeLoopbackAddr returns a loopback host:port that was free a moment ago.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// cmdWaitRPC waits (up to 60 s) until the JSON-RPC endpoint answers: `waitrpc URL`.
func cmdWaitRPC(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitrpc URL")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		client, err := ethclient.DialContext(ctx, args[0])
		if err == nil {
			_, err = client.ChainID(ctx)
			client.Close()
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not answer: %v", args[0], err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// cmdJSONGet sets an environment variable from a JSON file's field: `jsonget FILE a.b.0.c VAR`.
// Scripts use it to carry what one command printed (an address) into the next.
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jsonget FILE PATH VAR")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &v))
	for _, k := range strings.Split(args[1], ".") {
		switch node := v.(type) {
		case map[string]any:
			v = node[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(node) {
				ts.Fatalf("%s: no element %q", args[1], k)
			}
			v = node[i]
		default:
			ts.Fatalf("%s: %q is not in an object or array", args[1], k)
		}
	}
	if v == nil {
		ts.Fatalf("%s: no field %s", args[0], args[1])
	}
	ts.Setenv(args[2], fmt.Sprint(v))
}
