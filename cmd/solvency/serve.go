package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/web/serve"
)

type serveOptions struct {
	state    string
	http     string
	anywhere bool
	rpc      string
	noChain  bool
}

const serveLong = `serve answers, read-only over HTTP, from an engine's state directory (the demo's by default):

  /verify/          the users' page: a user gives their inclusion-proof file and types their id;
                    the page reads the registry, fetches the bundle by the digest recorded on
                    chain, verifies it in the browser (the project's verifier compiled to
                    WebAssembly) and says whether the balance was counted. Nothing the user
                    gives leaves their browser.
  /bundles/DIGEST/  each published bundle, by its manifest's sha256: the manifest and the files
                    it pins, nothing else (never the private store, keys or state)
  /report           the operators' cycle report
  /rpc              the chain's JSON-RPC, read-only methods only (with --rpc, or the demo's
                    embedded chain, which serve opens from DIR/state/chain when no --rpc is given)

It listens on loopback unless --listen-anywhere is given.`

const serveExample = `  solvency serve                                 # the demo's state, http://127.0.0.1:8080
  solvency serve --state st --rpc http://127.0.0.1:8545 --http 127.0.0.1:9000
  solvency serve --http 0.0.0.0:8080 --listen-anywhere`

// newServeCmd is `solvency serve`.
func newServeCmd() *cobra.Command {
	o := serveOptions{state: "solvency-demo", http: "127.0.0.1:8080"}
	cmd := &cobra.Command{
		Use:     "serve [--state DIR] [--http ADDR]",
		Short:   "Serve the published bundles, the users' verification page and the cycle report, read-only",
		Long:    serveLong,
		Example: serveExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			return runServe(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), &o, nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.state, "state", o.state, "the engine's state directory, or the demo's directory")
	f.StringVar(&o.http, "http", o.http, "address to listen on (loopback unless --listen-anywhere)")
	f.BoolVar(&o.anywhere, "listen-anywhere", false, "allow a non-loopback --http address")
	f.StringVar(&o.rpc, "rpc", "", "the chain's JSON-RPC URL that /rpc forwards reads to")
	f.BoolVar(&o.noChain, "no-chain", false, "do not open the state's embedded dev chain")
	return cmd
}

// runServe serves until ctx ends; ready, when set, receives the listening URL.
func runServe(ctx context.Context, out, errw io.Writer, o *serveOptions, ready chan<- string) error {
	if err := checkServeAddr(o.http, o.anywhere); err != nil {
		return err
	}
	state, err := serve.ResolveState(o.state)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	rpc := o.rpc
	if rpc == "" && !o.noChain {
		if _, err := os.Stat(filepath.Join(state, "chain", devnet.KeyFileName)); err == nil {
			d, err := devnet.Start(devnet.Config{DataDir: filepath.Join(state, "chain"), HTTPAddr: "127.0.0.1:0"})
			if err != nil {
				return fmt.Errorf("open the state's dev chain (is the demo still running? then pass --rpc): %w", err)
			}
			defer d.Close()
			rpc = d.HTTPEndpoint()
			fmt.Fprintf(errw, "serve: opened the embedded dev chain in %s (JSON-RPC %s)\n", filepath.Join(state, "chain"), rpc)
		}
	}
	page, err := serve.PageWithVerifier(errw)
	if err != nil {
		return err
	}
	h, err := serve.New(serve.Options{StateDir: state, RPC: rpc, Page: page, Report: reportFor(state)})
	if err != nil {
		return exitError(exitBadInput, err)
	}
	ln, err := net.Listen("tcp", o.http)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "serving %s read-only at %s\n  users' page   %s/verify/\n  cycle report  %s/report\n  bundles       %s/bundles/\n", state, url, url, url, url)
	if ready != nil {
		ready <- url
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// checkServeAddr refuses a malformed address, and a non-loopback one unless anywhere is set.
func checkServeAddr(addr string, anywhere bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return exitError(exitBadInput, fmt.Errorf("--http %q: %w", addr, err))
	}
	if ip := net.ParseIP(host); !anywhere && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return exitError(exitBadInput, fmt.Errorf("--http %s is not a loopback address; add --listen-anywhere to serve other machines", addr))
	}
	return nil
}
