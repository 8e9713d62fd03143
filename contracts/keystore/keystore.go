// Package keystore loads signing keys (operator, governance, auditor, Safe owner) from
// go-ethereum's encrypted keystore files (Web3 Secret Storage: scrypt + AES-128-CTR), with the
// password from a file, an environment variable or a terminal prompt, as well as from the plain
// development key files (64 hex digits). A private key or password is never printed or logged:
// errors name the file, the role and the address only.
package keystore

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	gethks "github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
	"golang.org/x/term"

	"github.com/solvency-dev/solvency/contracts"
)

// EnvPassword names the environment variable the CLI reads a keystore password from.
const EnvPassword = "SOLVENCY_KEY_PASSWORD"

// maxKeystoreFile bounds a keystore file read from disk (they are under 1 KiB).
const maxKeystoreFile = 64 << 10

// Source says where one role's key comes from. Exactly one of KeyFile, Keystore and EnvKey
// (with the variable set) is used, in that order.
type Source struct {
	// Role names the key in messages: "operator", "governance", "auditor", "owner 2".
	Role string
	// KeyFile is a plain development key file (64 hex digits).
	KeyFile string
	// Keystore is a go-ethereum encrypted keystore JSON file.
	Keystore string
	// PasswordFile holds the keystore's password (its first line; a trailing newline is dropped).
	PasswordFile string
	// PasswordEnv names an environment variable holding the password.
	PasswordEnv string
	// EnvKey names an environment variable holding a plain hex key (contracts.EnvKey).
	EnvKey string
	// Prompt asks for the password when neither PasswordFile nor PasswordEnv gives it; nil
	// means no prompting (an error instead). TerminalPrompt reads from a terminal without echo.
	Prompt func(prompt string) (string, error)
}

// Key is a loaded key with its address.
type Key struct {
	Role    string
	Address common.Address
	Private *ecdsa.PrivateKey
}

// String names the role and address, never the key.
func (k *Key) String() string { return fmt.Sprintf("%s key %s", k.Role, k.Address.Hex()) }

// ErrNoKey means the source names no key at all.
var ErrNoKey = errors.New("no key given")

// Load loads the key the source names.
func Load(s Source) (*Key, error) {
	role := s.Role
	if role == "" {
		role = "signing"
	}
	switch {
	case s.KeyFile != "" && s.Keystore != "":
		return nil, fmt.Errorf("%s key: give a key file or a keystore, not both", role)
	case s.KeyFile != "":
		k, err := contracts.LoadKey(s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s key: %w", role, err)
		}
		return &Key{Role: role, Address: crypto.PubkeyToAddress(k.PublicKey), Private: k}, nil
	case s.Keystore != "":
		return loadKeystore(role, s)
	case s.EnvKey != "":
		v, ok := os.LookupEnv(s.EnvKey)
		if !ok || strings.TrimSpace(v) == "" {
			break
		}
		k, err := contracts.ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s key from $%s: %w", role, s.EnvKey, err)
		}
		return &Key{Role: role, Address: crypto.PubkeyToAddress(k.PublicKey), Private: k}, nil
	}
	return nil, fmt.Errorf("%s key: %w (give a key file, a keystore file with its password, or set the key's environment variable)", role, ErrNoKey)
}

func loadKeystore(role string, s Source) (*Key, error) {
	raw, err := readBounded(s.Keystore)
	if err != nil {
		return nil, fmt.Errorf("%s keystore: %w", role, err)
	}
	pass, err := password(role, s)
	if err != nil {
		return nil, err
	}
	k, err := gethks.DecryptKey(raw, pass)
	if err != nil {
		// DecryptKey's errors carry no secret ("could not decrypt key with given password").
		return nil, fmt.Errorf("%s keystore %s: %w", role, s.Keystore, err)
	}
	addr := crypto.PubkeyToAddress(k.PrivateKey.PublicKey)
	// The file's clear-text address is what a reader sees before decrypting; it must be the
	// key's (DecryptKey derives the address from the key and ignores the field).
	var hdr struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		return nil, fmt.Errorf("%s keystore %s: %w", role, s.Keystore, err)
	}
	if hdr.Address != "" && common.HexToAddress(hdr.Address) != addr {
		return nil, fmt.Errorf("%s keystore %s names address %s but holds the key of %s", role, s.Keystore,
			common.HexToAddress(hdr.Address).Hex(), addr.Hex())
	}
	return &Key{Role: role, Address: addr, Private: k.PrivateKey}, nil
}

func password(role string, s Source) (string, error) {
	switch {
	case s.PasswordFile != "":
		raw, err := readBounded(s.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("%s password file: %w", role, err)
		}
		line, _, _ := strings.Cut(string(raw), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	case s.PasswordEnv != "":
		if v, ok := os.LookupEnv(s.PasswordEnv); ok {
			return v, nil
		}
		if s.Prompt == nil {
			return "", fmt.Errorf("%s keystore: $%s is not set", role, s.PasswordEnv)
		}
	}
	if s.Prompt == nil {
		return "", fmt.Errorf("%s keystore %s: no password (give a password file or environment variable, or run on a terminal)", role, s.Keystore)
	}
	p, err := s.Prompt(fmt.Sprintf("Password for the %s keystore %s: ", role, s.Keystore))
	if err != nil {
		return "", fmt.Errorf("%s keystore: read password: %w", role, err)
	}
	return p, nil
}

// TerminalPrompt returns a Prompt reading a password from in without echo, writing the prompt
// to out; it returns nil when in is not a terminal (so Load reports a missing password instead
// of blocking on a pipe).
func TerminalPrompt(in *os.File, out io.Writer) func(string) (string, error) {
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return nil
	}
	return func(prompt string) (string, error) {
		fmt.Fprint(out, prompt)
		p, err := term.ReadPassword(fd)
		fmt.Fprintln(out)
		if err != nil {
			return "", err
		}
		return string(p), nil
	}
}

// Write encrypts key with password into a new keystore file at path (0600, refusing to replace
// an existing file). scryptN and scryptP are go-ethereum's (keystore.StandardScryptN/P for real
// keys; LightScryptN/P only for tests).
func Write(path string, key *ecdsa.PrivateKey, password string, scryptN, scryptP int) (common.Address, error) {
	addr := crypto.PubkeyToAddress(key.PublicKey)
	id, err := uuid.NewRandom()
	if err != nil {
		return addr, fmt.Errorf("keystore id: %w", err)
	}
	blob, err := gethks.EncryptKey(&gethks.Key{Id: id, Address: addr, PrivateKey: key}, password, scryptN, scryptP)
	if err != nil {
		return addr, fmt.Errorf("encrypt key for %s: %w", addr.Hex(), err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return addr, fmt.Errorf("create keystore file: %w", err)
	}
	if _, err := f.Write(blob); err != nil {
		f.Close()
		return addr, fmt.Errorf("write keystore file: %w", err)
	}
	if err := f.Close(); err != nil {
		return addr, fmt.Errorf("write keystore file: %w", err)
	}
	return addr, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxKeystoreFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(raw) > maxKeystoreFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxKeystoreFile)
	}
	return raw, nil
}
