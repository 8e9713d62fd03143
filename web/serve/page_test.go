package serve

import (
	"io/fs"
	"testing"
	"testing/fstest"
)

// The built verifier's two files come from the build directory, the rest of the page from the
// embedded one.
func TestOverlayServesBuiltVerifier(t *testing.T) {
	base := fstest.MapFS{"index.html": {Data: []byte("page")}, "verifier.wasm": {Data: []byte("stale")}}
	built := fstest.MapFS{"verifier.wasm": {Data: []byte("fresh")}, "wasm_exec.js": {Data: []byte("glue")}, "index.html": {Data: []byte("other")}}
	o := overlayFS{base: base, dir: built}
	for name, want := range map[string]string{"index.html": "page", "verifier.wasm": "fresh", "wasm_exec.js": "glue"} {
		b, err := fs.ReadFile(o, name)
		if err != nil || string(b) != want {
			t.Errorf("%s: %q (%v), want %q", name, b, err, want)
		}
	}
}
