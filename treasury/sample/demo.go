package sample

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/liabilities"
)

// WriteWithAccounts writes the sample into dir (as WriteTo) and sets its config's generated
// accounts to users (seed 1, scaled to the liabilities file), so that the demo's --users flag is
// the one thing a rerun changes. It returns the config file's path.
func WriteWithAccounts(dir string, users int) (string, error) {
	cfgPath, err := WriteTo(dir)
	if err != nil {
		return "", err
	}
	cfgRaw, err := os.ReadFile(cfgPath)
	if err != nil {
		return "", err
	}
	var raw map[string]any
	if err := json.Unmarshal(cfgRaw, &raw); err != nil {
		return "", fmt.Errorf("%s: %w", cfgPath, err)
	}
	raw["accounts"] = map[string]any{"users": users, "seed": 1, "scaleTo": "liabilities.json"}
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return "", fmt.Errorf("%s: %w", cfgPath, err)
	}
	if err := atomicfile.WriteFile(cfgPath, append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	return cfgPath, nil
}

// WriteUserProof writes one generated user's inclusion proof (the first account of the CSV
// beside the snapshot directory liabDir, as the engine writes it) to dir, as that user would
// receive it from the operator. It returns the file's path and the account id.
func WriteUserProof(liabDir, dir string) (path, account string, err error) {
	account, err = firstAccount(filepath.Join(filepath.Dir(liabDir), "accounts.csv"))
	if err != nil {
		return "", "", err
	}
	st, err := liabilities.Open(liabDir)
	if err != nil {
		return "", "", err
	}
	defer st.Close()
	p, err := st.Proof(account)
	if err != nil {
		return "", "", err
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return "", "", err
	}
	path = filepath.Join(dir, "user-proof-"+account+".json")
	return path, account, atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}

// firstAccount is the id in the first row after the header of an accounts CSV.
func firstAccount(csvPath string) (string, error) {
	f, err := os.Open(csvPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", fmt.Errorf("%s: %w", csvPath, err)
		}
		return "", errors.New("accounts.csv has no account")
	}
	account, _, _ := strings.Cut(sc.Text(), ",")
	return account, nil
}
