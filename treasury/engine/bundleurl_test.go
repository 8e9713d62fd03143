package engine

import (
	"strings"
	"testing"
)

// TestConfigBundleURL: a config's bundleUrl must be a plain http(s) base URL; credentials (which
// would be public on chain) are refused without being echoed.
func TestConfigBundleURL(t *testing.T) {
	base := Config{Profile: "p", Policy: "p", Venues: "v", Positions: "p", Rebalance: "r", Executor: "e", Market: "m",
		Accounts: AccountsConfig{Users: 1}}
	for u, ok := range map[string]bool{
		"":                                 true,
		"https://proofs.example.org":       true,
		"http://127.0.0.1:8080/":           true,
		"file:///tmp/x":                    false,
		"https://u:topsecret@example.org":  false,
		"https://example.org/?k=topsecret": false,
	} {
		c := base
		c.BundleURL = u
		err := c.Validate()
		if (err == nil) != ok {
			t.Errorf("%q: %v", u, err)
		}
		if err != nil && strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%q: the error echoes the secret: %v", u, err)
		}
	}
}
