package liabilities

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// V3: an inclusion proof with account_id twice used to verify the last one while a reader saw
// the first; one without its salt read as salt zero. Both are malformed (unusable input), and
// the error names the file, the place and the key.
func TestV3_InclusionProofDuplicateAccountIDAndMissingSaltRefused(t *testing.T) {
	p, _ := proofFixture(t)
	raw, _ := json.Marshal(p)
	salt := regexp.MustCompile(`"salt":"0x[0-9a-f]{64}",`)
	if !salt.Match(raw) {
		t.Fatal("no salt in the proof")
	}
	for name, c := range map[string]struct{ doc, want string }{
		"account_id twice": {strings.Replace(string(raw), `"account_id":`, `"account_id":"someone-else","account_id":`, 1), `key "account_id": duplicate key`},
		"missing salt":     {salt.ReplaceAllString(string(raw), ""), `key "salt": required field is missing`},
		"null salt":        {salt.ReplaceAllString(string(raw), `"salt":null,`), `may not be null`},
		"Salt":             {strings.Replace(string(raw), `"salt":`, `"Salt":`, 1), `did you mean "salt"`},
		"null":             {"null", "the document is null"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "proof.json")
			if err := os.WriteFile(path, []byte(c.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadInclusionProof(path)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path+":") {
				t.Fatalf("want ErrMalformed naming %s and %q, got %v", path, c.want, err)
			}
		})
	}
}

// V8: an inclusion proof is read as a regular file within its limit.
func TestV8_InclusionProofBounded(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "proof.json")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadInclusionProof(link); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "a device") {
		t.Fatalf("link to /dev/zero: %v", err)
	}
	big := filepath.Join(dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30)
	f.Close()
	if _, err := ReadInclusionProof(big); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "over the") {
		t.Fatalf("1 GiB proof: %v", err)
	}
}

// A 1 GB CSV value was echoed whole in the error; it is refused by length and quoted by a prefix.
func TestCSVHugeValueNotEchoed(t *testing.T) {
	tab := testTable(t)
	huge := strings.Repeat("9", 10<<20)
	in := "account_id," + tab.Assets[0].Symbol + "\nalice," + huge + "\n"
	err := ParseAccounts(strings.NewReader(in), "accounts.csv", tab, func(Account) error { return nil })
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "accounts.csv:2") {
		t.Fatalf("error of %d bytes: %.300v", len(err.Error()), err)
	}
	hugeSym := strings.Repeat("X", 10<<20)
	err = ParseAccounts(strings.NewReader("account_id,"+hugeSym+"\nalice,1\n"), "accounts.csv", tab, func(Account) error { return nil })
	if err == nil || len(err.Error()) > 400 {
		t.Fatalf("header error of %d bytes", len(err.Error()))
	}
}
