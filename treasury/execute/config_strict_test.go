package execute

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigCommittedFiles(t *testing.T) {
	for _, p := range []string{"../../testdata/treasury/executor.json", "../sample/files/executor.json"} {
		if _, err := LoadConfig(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range []string{"../../testdata/treasury/addressbook.json", "../sample/files/addressbook.json"} {
		if _, err := LoadAddressBook(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// V3: unknown keys in executor.json used to be ignored (a trade was planned under settings
// other than the ones written); they are refused, naming the file, place and nearest field.
func TestV3_UnknownExecutorKeyRefused(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/treasury/executor.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"unknown":  {`"arbitrage": true`, `"arbitrage": true, "maxSlippageBps": 10`, `key "maxSlippageBps": unknown field`},
		"misspelt": {`"slippageBudgetBps"`, `"slippageBudgetBp"`, `did you mean "slippageBudgetBps"?`},
		"in pool":  {`"feeBps": 5}`, `"feeBps": 5, "fee": 1}`, `key "pools[0].fee": unknown field`},
		"missing":  {`"slippageBudgetBps": 60,`, ``, `key "slippageBudgetBps": required field is missing`},
		"null":     {`"minTrancheUsd": 1000000000000`, `"minTrancheUsd": null`, `may not be null`},
	} {
		t.Run(name, func(t *testing.T) {
			mut := strings.Replace(string(raw), c.from, c.to, 1)
			if mut == string(raw) {
				t.Fatal("edit not found")
			}
			p := filepath.Join(t.TempDir(), "executor.json")
			if err := os.WriteFile(p, []byte(mut), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(p)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p+":") {
				t.Fatalf("want an error naming %s and %q, got %v", p, c.want, err)
			}
		})
	}
}
