package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runSolvency runs the CLI as a child process (this test binary answers to the name solvency,
// see TestMain) and returns its exit code, stderr, wall time and peak resident memory. It goes
// through a small launcher process (rss-launcher), so that the figure is the CLI's own: the
// peak RSS Linux reports for a direct child of this test process includes this process's.
func runSolvency(t *testing.T, dir string, args ...string) (int, string, time.Duration, int64) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: self, Args: append([]string{"rss-launcher"}, args...), Dir: dir}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	line := strings.TrimSpace(stdout.String())
	kib, perr := strconv.ParseInt(strings.TrimPrefix(line[strings.LastIndex(line, "\n")+1:], "maxrss_kib="), 10, 64)
	if perr != nil {
		t.Fatalf("launcher printed %q, stderr %q: %v", line, stderr.String(), perr)
	}
	return cmd.ProcessState.ExitCode(), stderr.String(), d, kib << 10
}

// rssLauncher is the test binary run as rss-launcher: it runs `solvency os.Args[1:]` (itself
// under that name), passes its stderr and exit code through and prints its peak RSS in KiB.
func rssLauncher() {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(70)
	}
	cmd := &exec.Cmd{Path: self, Args: append([]string{"solvency"}, os.Args[1:]...), Stderr: os.Stderr}
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(70)
		}
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "no resource usage for the child")
		os.Exit(70)
	}
	fmt.Printf("maxrss_kib=%d\n", ru.Maxrss)
	os.Exit(cmd.ProcessState.ExitCode())
}

// V8: `verify bundle` on a 1 GiB manifest or one linked to /dev/zero, and `publish` on a
// statement linked to /dev/zero, exit 2 within a second with a clear message, the whole process
// staying far under 200 MB (a whole process, measured by the kernel's peak RSS).
func TestV8_HugeAndDeviceInputsRefusedByTheCLI(t *testing.T) {
	dir := t.TempDir()
	zeros := strings.Repeat("0", 64)
	if err := os.WriteFile(filepath.Join(dir, "pins.json"), []byte(`{"verifying_keys": {"batch": "`+zeros+`", "solvency": "`+zeros+`"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"huge", "zero"} {
		if err := os.Mkdir(filepath.Join(dir, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(dir, "huge", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero", "manifest.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "statement.json")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"1 GiB manifest", []string{"verify", "bundle", "huge", "--keys-from", "pins.json"}, "is 1.0 GiB, over the 64.0 MiB limit"},
		{"manifest linked to /dev/zero", []string{"verify", "bundle", "zero", "--keys-from", "pins.json"}, "is a device: want a regular file"},
		{"pins linked to /dev/zero", []string{"verify", "bundle", "huge", "--keys-from", "statement.json"}, "is a device: want a regular file"},
		{"publish a statement linked to /dev/zero", []string{"publish", "statement.json", "--rpc", "http://127.0.0.1:1", "--key", "pins.json"}, "is a device: want a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stderr, d, rss := runSolvency(t, dir, c.args...)
			if code != exitBadInput || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitBadInput, c.want)
			}
			if d > time.Second || rss > 200<<20 {
				t.Fatalf("took %s with a peak RSS of %.1f MB", d, float64(rss)/(1<<20))
			}
			t.Logf("exit %d in %s, peak RSS %.1f MB: %s", code, d.Round(time.Millisecond), float64(rss)/(1<<20), strings.TrimSpace(stderr))
		})
	}
}
