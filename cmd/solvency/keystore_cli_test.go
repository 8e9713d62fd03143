package main

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gethks "github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/contracts/keystore"
)

// TestChainKeyFromKeystore: every command that signs (--key) also takes --keystore with the
// password from --password-file or $SOLVENCY_KEY_PASSWORD; a wrong password is refused without
// showing the key.
func TestChainKeyFromKeystore(t *testing.T) {
	dn, err := devnet.Start(devnet.Config{HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Close()
	ctx := context.Background()
	client, err := ethclient.DialContext(ctx, dn.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	dir := t.TempDir()
	k, _ := crypto.GenerateKey()
	ks := filepath.Join(dir, "operator.json")
	addr, err := keystore.Write(ks, k, "s3cret", gethks.LightScryptN, gethks.LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := ocChainOptions{rpc: dn.HTTPEndpoint(), keystore: ks, passwordFile: pw}
	c, err := o.chain(ctx, client)
	if err != nil || c.From() != addr {
		t.Fatalf("keystore with password file: %v", err)
	}
	t.Setenv(keystore.EnvPassword, "s3cret")
	o.passwordFile = ""
	if c, err = o.chain(ctx, client); err != nil || c.From() != addr {
		t.Fatalf("keystore with password env: %v", err)
	}
	t.Setenv(keystore.EnvPassword, "wrong")
	_, err = o.chain(ctx, client)
	if err == nil || exitCode(err) != exitBadInput || strings.Contains(err.Error(), "s3cret") ||
		strings.Contains(err.Error(), hex.EncodeToString(crypto.FromECDSA(k))) {
		t.Fatalf("wrong password: %v", err)
	}
}
