package keystore

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gethks "github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
)

func writeTestKeystore(t *testing.T, pass string) (string, string) {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "owner.json")
	addr, err := Write(path, k, pass, gethks.LightScryptN, gethks.LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("keystore file mode %v, %v", st.Mode(), err)
	}
	if _, err := Write(path, k, pass, gethks.LightScryptN, gethks.LightScryptP); err == nil {
		t.Fatal("Write replaced an existing keystore file")
	}
	return path, addr.Hex() + "|" + hex.EncodeToString(crypto.FromECDSA(k))
}

func TestKeystorePasswordSources(t *testing.T) {
	path, ids := writeTestKeystore(t, "correct horse")
	addr, secret, _ := strings.Cut(ids, "|")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("correct horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_OWNER_PW", "correct horse")
	for name, s := range map[string]Source{
		"file":   {Role: "owner 1", Keystore: path, PasswordFile: pwFile},
		"env":    {Role: "owner 1", Keystore: path, PasswordEnv: "TEST_OWNER_PW"},
		"prompt": {Role: "owner 1", Keystore: path, Prompt: func(p string) (string, error) { return "correct horse", nil }},
	} {
		k, err := Load(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if k.Address.Hex() != addr || hex.EncodeToString(crypto.FromECDSA(k.Private)) != secret {
			t.Fatalf("%s: loaded %s", name, k)
		}
		if strings.Contains(k.String(), secret) || !strings.Contains(k.String(), addr) {
			t.Errorf("%s: String() = %q", name, k)
		}
	}
}

func TestKeystoreRefusalsNeverShowTheKey(t *testing.T) {
	path, ids := writeTestKeystore(t, "right")
	_, secret, _ := strings.Cut(ids, "|")
	t.Setenv("TEST_WRONG_PW", "wrong")
	cases := map[string]Source{
		"wrong password":      {Role: "governance", Keystore: path, PasswordEnv: "TEST_WRONG_PW"},
		"no password source":  {Role: "governance", Keystore: path},
		"unset env, no tty":   {Role: "governance", Keystore: path, PasswordEnv: "TEST_UNSET_PW_VAR"},
		"both file and store": {Role: "governance", Keystore: path, KeyFile: path},
		"nothing":             {Role: "auditor"},
		"a directory":         {Role: "owner", Keystore: filepath.Dir(path), PasswordEnv: "TEST_WRONG_PW"},
	}
	for name, s := range cases {
		k, err := Load(s)
		if err == nil {
			t.Errorf("%s: loaded %s", name, k)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "right") && name != "wrong password" {
			t.Errorf("%s: the error shows a secret: %v", name, err)
		}
		if !strings.Contains(err.Error(), s.Role) {
			t.Errorf("%s: the error does not name the role: %v", name, err)
		}
	}
	// A keystore whose address field is not its key's is refused.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := crypto.GenerateKey()
	oaddr := strings.ToLower(crypto.PubkeyToAddress(other.PublicKey).Hex()[2:])
	var tampered []byte
	if i := bytes.Index(raw, []byte(`"address":"`)); i >= 0 {
		tampered = append(append(append([]byte{}, raw[:i+11]...), oaddr...), raw[i+11+40:]...)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_RIGHT_PW", "right")
	if _, err := Load(Source{Role: "owner", Keystore: bad, PasswordEnv: "TEST_RIGHT_PW"}); err == nil || !strings.Contains(err.Error(), "holds the key of") {
		t.Errorf("tampered address: %v", err)
	}
}

func TestPlainKeyFileAndEnv(t *testing.T) {
	k, _ := crypto.GenerateKey()
	hexKey := hex.EncodeToString(crypto.FromECDSA(k))
	f := filepath.Join(t.TempDir(), "dev.key")
	if err := os.WriteFile(f, []byte(hexKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := crypto.PubkeyToAddress(k.PublicKey)
	got, err := Load(Source{Role: "operator", KeyFile: f})
	if err != nil || got.Address != want {
		t.Fatalf("key file: %v %v", got, err)
	}
	t.Setenv("TEST_OPERATOR_KEY", "0x"+hexKey)
	got, err = Load(Source{Role: "operator", EnvKey: "TEST_OPERATOR_KEY"})
	if err != nil || got.Address != want {
		t.Fatalf("env key: %v %v", got, err)
	}
}
