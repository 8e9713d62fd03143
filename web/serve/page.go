package serve

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/solvency-dev/solvency/web"
)

// PageWithVerifier returns the embedded users' page; when this binary was built without the
// WebAssembly verifier (go generate ./web not run), it builds it from the checkout (the working
// directory) into the user's cache directory and serves it from there, saying so on log.
func PageWithVerifier(log io.Writer) (fs.FS, error) {
	p := web.Page()
	if web.HasVerifier(p) {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("find the cache directory for the WebAssembly verifier: %w", err)
	}
	dir, err := filepath.Abs(filepath.Join(cache, "solvency", "page"))
	if err != nil {
		return nil, err
	}
	// Rebuilt at every start so that it never lags the checkout's verifier (Go's build cache
	// makes an unchanged rebuild take seconds).
	fmt.Fprintf(log, "serve: this binary has no WebAssembly verifier embedded; building it into %s\n", dir)
	script := filepath.Join("web", "build-wasm.sh")
	if _, err := os.Stat(script); err != nil {
		return nil, errors.New("the users' page needs its WebAssembly verifier: run `go generate ./web` in the checkout and rebuild, or run serve from the checkout")
	}
	c := exec.Command(script, dir)
	c.Stdout, c.Stderr = log, log
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("build the WebAssembly verifier: %w", err)
	}
	return overlayFS{base: p, dir: os.DirFS(dir)}, nil
}

// overlayFS serves the built verifier files from dir and everything else from base.
type overlayFS struct{ base, dir fs.FS }

func (o overlayFS) Open(name string) (fs.File, error) {
	if name == "verifier.wasm" || name == "wasm_exec.js" {
		return o.dir.Open(name)
	}
	return o.base.Open(name)
}
