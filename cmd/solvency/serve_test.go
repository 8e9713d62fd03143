package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestServeListensOnLoopbackOnly: a non-loopback address needs the explicit flag.
func TestServeListensOnLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:8080", ":8080"} {
		err := runServe(context.Background(), io.Discard, io.Discard, &serveOptions{state: t.TempDir(), http: addr}, nil)
		if err == nil || !strings.Contains(err.Error(), "--listen-anywhere") {
			t.Errorf("%s: %v", addr, err)
		}
	}
}
