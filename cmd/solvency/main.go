// Command solvency proves, every cycle and in zero knowledge, that a treasury's reserves cover
// what it owes its users and that its risk limits hold, and publishes the attestation on chain.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/consensys/gnark/logger"
	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the CLI with args and returns the process exit code; tests call it directly.
func run(args []string) int {
	// gnark logs compilation to stdout, which would corrupt --json output and the summaries.
	logger.Disable()
	return runRoot(newRootCmd(), args, os.Stdout, os.Stderr)
}

// runRoot executes root with args, writing to stdout and stderr, and returns the exit code.
func runRoot(root *cobra.Command, args []string, out, errOut io.Writer) int {
	stdout := &watchedWriter{w: out}
	root.SetOut(stdout)
	root.SetErr(errOut)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	code := exitCodeOf(err)
	if code == 0 {
		return 0
	}
	fmt.Fprintln(root.ErrOrStderr(), "solvency:", err)
	// A script that asked for --json reads stdout: unusable input gets a document there too,
	// unless the command printed its own (a report with "ok": false and the reason). Exit code 1
	// commands always print their own.
	if code == exitBadInput && !stdout.wrote && wantsJSON(cmd, args) {
		if perr := printJSONError(stdout, err, code); perr != nil {
			fmt.Fprintln(root.ErrOrStderr(), "solvency:", perr)
		}
	}
	return code
}

// Exit codes shared by every command.
const (
	exitInvalid  = 1 // a check failed: an invalid proof, a broken limit
	exitBadInput = 2 // unusable input: a malformed file, bad flags
)

// exitErr carries an exit code through cobra's error return.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string { return e.err.Error() }
func (e *exitErr) Unwrap() error { return e.err }

// exitError wraps err with the exit code the process should end with.
func exitError(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitErr{code: code, err: err}
}
