package web

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestWasmVerifierDependencies: the page's verifier must keep building for WebAssembly. What
// breaks it is a package that pulls in go-ethereum's client or its databases (pebble, leveldb),
// which do not build for js; `go list` finds that in a second, without the browser test's build.
func TestWasmVerifierDependencies(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list for js/wasm: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/cockroachdb/pebble", "github.com/syndtr/goleveldb", "github.com/ethereum/go-ethereum/ethclient"} {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("the WebAssembly verifier imports %s: keep chain clients and databases out of the packages the page uses", dep)
			}
		}
	}
}
