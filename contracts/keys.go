package contracts

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/internal/boundedfile"
)

// EnvKey names the environment variable that may hold the signing key (hex), for when no key
// file is given. Keys never come from command-line flags, which end up in shell history.
const EnvKey = "SOLVENCY_KEY"

// ParseKey parses a secp256k1 private key written as 64 hex digits, with or without 0x, with
// surrounding whitespace allowed.
func ParseKey(s string) (*ecdsa.PrivateKey, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(s) != 64 {
		return nil, fmt.Errorf("want 64 hex digits, got %d characters", len(s))
	}
	key, err := crypto.HexToECDSA(s)
	if err != nil {
		return nil, errors.New("not a valid secp256k1 private key")
	}
	return key, nil
}

// LoadKey reads the signing key from path, or from $SOLVENCY_KEY when path is empty.
func LoadKey(path string) (*ecdsa.PrivateKey, error) {
	if path == "" {
		v, ok := os.LookupEnv(EnvKey)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("no signing key: give --key FILE or set %s", EnvKey)
		}
		key, err := ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return key, nil
	}
	raw, err := boundedfile.ReadFile(path, boundedfile.KeyFile)
	if err != nil {
		return nil, err
	}
	key, err := ParseKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}
