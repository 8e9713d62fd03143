package devnet

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

// The copy reads back as the same key, as the chain's own key file does, and is private.
func TestWriteKeyFileRoundTrip(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dev.key")
	if err := (&Devnet{Key: key}).WriteKeyFile(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	got, err := loadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(key) {
		t.Fatal("the key read back differs")
	}
	if err := (&Devnet{Key: key}).WriteKeyFile(filepath.Join(path, "under-a-file")); err == nil {
		t.Fatal("a write under a file succeeded")
	}
}
