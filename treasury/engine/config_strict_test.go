package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// V3: the run config is read strictly: trailing data, null and a repeated key are refused.
func TestV3_RunConfigStrict(t *testing.T) {
	for _, p := range []string{"../../testdata/treasury/config.json", "../sample/files/config.json"} {
		if _, err := LoadConfig(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	raw, err := os.ReadFile("../../testdata/treasury/config.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ doc, want string }{
		"trailing garbage": {string(raw) + " garbage", "trailing data"},
		"null":             {"null", "the document is null"},
		"repeated key":     {strings.Replace(string(raw), `"profile":`, `"profile": "test", "profile":`, 1), `key "profile": duplicate key`},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(p, []byte(c.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p+":") {
				t.Fatalf("want %q, got %v", c.want, err)
			}
		})
	}
}
