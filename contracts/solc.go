package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// EnvContractsDir names the environment variable that points at the contracts/ directory (the one
// holding package.json, tools/compile.js and node_modules) when the CLI runs outside the checkout.
const EnvContractsDir = "SOLVENCY_CONTRACTS_DIR"

// ErrCompilerMissing reports that node or the pinned solc package is not installed.
var ErrCompilerMissing = errors.New("the Solidity compiler is not installed: run scripts/setup.sh " +
	"(it installs solc, pinned in contracts/package-lock.json, with npm ci; Node.js must be on PATH)")

// ContractsDir finds the contracts/ directory: $SOLVENCY_CONTRACTS_DIR if set, else the nearest
// contracts/ (or the current directory itself) holding tools/compile.js, walking up from the
// working directory.
func ContractsDir() (string, error) {
	if d := os.Getenv(EnvContractsDir); d != "" {
		if _, err := os.Stat(filepath.Join(d, "tools", "compile.js")); err != nil {
			return "", fmt.Errorf("%s=%s: no tools/compile.js there", EnvContractsDir, d)
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find contracts directory: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		for _, cand := range []string{dir, filepath.Join(dir, "contracts")} {
			if _, err := os.Stat(filepath.Join(cand, "tools", "compile.js")); err == nil {
				if _, err := os.Stat(filepath.Join(cand, "package.json")); err == nil {
					return cand, nil
				}
			}
		}
		if parent := filepath.Dir(dir); parent == dir {
			break
		}
	}
	return "", fmt.Errorf("cannot find the contracts/ directory above %s; run from the checkout or set %s", wd, EnvContractsDir)
}

// nodeTool runs `node tools/NAME args...` in the contracts directory with stdin, returning stdout.
func nodeTool(ctx context.Context, name string, stdin []byte, args ...string) ([]byte, error) {
	dir, err := ContractsDir()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w (node not found on PATH)", ErrCompilerMissing)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "solc")); err != nil {
		return nil, fmt.Errorf("%w (%s has no node_modules/solc)", ErrCompilerMissing, dir)
	}
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join("tools", name)}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node tools/%s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Compile compiles Solidity sources (file name to content) with the pinned solc and the fixed
// settings of tools/compile.js, and returns the artifacts by contract name. Interfaces and
// abstract contracts are left out.
func Compile(ctx context.Context, sources map[string]string) (map[string]*Artifact, error) {
	req, err := json.Marshal(map[string]any{"sources": sources})
	if err != nil {
		return nil, fmt.Errorf("encode compiler input: %w", err)
	}
	out, err := nodeTool(ctx, "compile.js", req, "--stdin")
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	var resp struct {
		Contracts map[string]*Artifact `json:"contracts"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("compile: decode compiler output: %w", err)
	}
	arts := make(map[string]*Artifact)
	for _, a := range resp.Contracts {
		if a.Bytecode == "0x" {
			continue
		}
		if _, dup := arts[a.ContractName]; dup {
			return nil, fmt.Errorf("compile: two contracts named %s", a.ContractName)
		}
		arts[a.ContractName] = a
	}
	return arts, nil
}
