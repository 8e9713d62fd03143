package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"
)

// The run functions are called without a process; unusable input ends with exit 2 before any
// chain is dialled or any file written.
func TestPublishRunFunctionRefusesUnusableInput(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]*publishOptions{
		"missing bundle":   {path: filepath.Join(dir, "nope")},
		"bad --bundle-url": {path: dir, bundleURL: "ftp://h/x"},
		"no statement":     {path: dir},
	}
	for name, o := range cases {
		if err := runPublish(context.Background(), io.Discard, o); exitCode(err) != exitBadInput {
			t.Errorf("%s: %v, want exit %d", name, err, exitBadInput)
		}
	}
}

func TestReportRunFunctionRefusesMissingState(t *testing.T) {
	o := &reportOptions{state: filepath.Join(t.TempDir(), "nope"), out: filepath.Join(t.TempDir(), "r.html")}
	if err := runReport(io.Discard, o); exitCode(err) != exitBadInput {
		t.Fatalf("%v, want exit %d", err, exitBadInput)
	}
}
