// Package web holds the users' verification page and the operators' report, served by
// `solvency serve`. The page's verifier is the project's Go verifier compiled to WebAssembly:
// `go generate ./web` builds page/verifier.wasm and copies Go's wasm_exec.js beside it (both
// are build outputs, ignored by git, and embedded when present).
package web

import (
	"embed"
	"io/fs"
)

//go:generate ./build-wasm.sh

//go:embed page
var page embed.FS

// Page is the users' page (index.html at its root).
func Page() fs.FS {
	sub, err := fs.Sub(page, "page")
	if err != nil {
		// fs.Sub fails only on an invalid path; "page" is valid.
		return page
	}
	return sub
}

// HasVerifier reports whether the embedded page carries its WebAssembly verifier.
func HasVerifier(p fs.FS) bool {
	_, err := fs.Stat(p, "verifier.wasm")
	return err == nil
}
