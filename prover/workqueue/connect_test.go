package workqueue_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/prover/workqueue"
)

// Tasks carry balances and salts: a server off this machine is refused without TLS, or without
// credentials, before any connection is made.
func TestConnect_OffLoopbackNeedsTLSAndCredentials(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(creds, []byte("user=prover\npassword=secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url  string
		o    workqueue.ConnectOptions
		want string
	}{
		{"nats://10.0.0.5:4222", workqueue.ConnectOptions{Creds: creds}, "tls://"},
		{"nats://127.0.0.1:4222,nats://nats.example:4222", workqueue.ConnectOptions{Creds: creds}, "tls://"},
		{"tls://nats.example:4222", workqueue.ConnectOptions{}, "credentials"},
	} {
		_, err := workqueue.Connect(tc.url, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Connect(%s): %v; want an error mentioning %q", tc.url, err, tc.want)
		}
	}
}

// A credentials file is a NATS .creds file or exactly user= and password= lines.
func TestConnect_CredentialsFileRefusesMalformed(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"no-password": "user=prover\n",
		"unknown-key": "user=prover\npassword=x\ntoken=y\n",
		"not-a-pair":  "prover secret\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := workqueue.Connect("tls://nats.example:4222", workqueue.ConnectOptions{Creds: p}); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v; want an error naming the file", name, err)
		}
	}
}

// The embedded server listens on loopback only.
func TestServer_RefusesNonLoopbackHost(t *testing.T) {
	if _, err := workqueue.StartServer(workqueue.ServerConfig{StoreDir: t.TempDir(), Host: "0.0.0.0"}); err == nil {
		t.Fatal("the embedded server listened on 0.0.0.0")
	}
}
