package workqueue

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// ConnectOptions say how to reach a NATS server.
type ConnectOptions struct {
	Name string // client name, shown by the server's monitoring
	// Creds is a credentials file: either a NATS .creds file (a user JWT and its nkey seed) or
	// a user/password file of two lines "user=NAME" and "password=SECRET".
	Creds string
	// NKeySeed is a file holding an nkey seed (SU...), for servers configured with nkeys users.
	NKeySeed string
	// TLS: a CA bundle to trust, and a client certificate and key for mutual TLS.
	TLSCA, TLSCert, TLSKey string
	// Insecure allows a plaintext, unauthenticated connection off loopback. Only for networks
	// that are already private and encrypted; witnesses hold balances and salts.
	Insecure bool
}

// Connect dials url. Off loopback it requires TLS (a tls:// URL or --tls-ca) and credentials,
// unless Insecure is set: a worker receives account balances and salts.
func Connect(rawURL string, o ConnectOptions) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(o.Name), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second)}
	remote, tlsURL, err := offLoopback(rawURL)
	if err != nil {
		return nil, err
	}
	useTLS := tlsURL || o.TLSCA != "" || o.TLSCert != ""
	hasCreds := o.Creds != "" || o.NKeySeed != ""
	if remote && !o.Insecure {
		if !useTLS {
			return nil, fmt.Errorf("%s is not on this machine: use a tls:// URL or --tls-ca (tasks carry account balances and salts)", rawURL)
		}
		if !hasCreds {
			return nil, fmt.Errorf("%s is not on this machine: give credentials (--creds or --nkey)", rawURL)
		}
	}
	if useTLS {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if o.TLSCA != "" {
			pem, err := os.ReadFile(o.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("read TLS CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s holds no PEM certificate", o.TLSCA)
			}
			cfg.RootCAs = pool
		}
		if o.TLSCert != "" || o.TLSKey != "" {
			cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
			if err != nil {
				return nil, fmt.Errorf("TLS client certificate: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, nats.Secure(cfg))
	}
	if o.Creds != "" {
		opt, err := credsOption(o.Creds)
		if err != nil {
			return nil, err
		}
		opts = append(opts, opt)
	}
	if o.NKeySeed != "" {
		opt, err := nats.NkeyOptionFromSeed(o.NKeySeed)
		if err != nil {
			return nil, fmt.Errorf("nkey seed %s: %w", o.NKeySeed, err)
		}
		opts = append(opts, opt)
	}
	nc, err := nats.Connect(rawURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", rawURL, err)
	}
	return nc, nil
}

// offLoopback reports whether any server in a comma-separated URL list is off this machine, and
// whether the URLs ask for TLS.
func offLoopback(raw string) (remote, tlsScheme bool, err error) {
	for _, s := range strings.Split(raw, ",") {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		u, err := url.Parse(s)
		if err != nil {
			return false, false, fmt.Errorf("NATS URL %q: %w", s, err)
		}
		if u.Scheme == "tls" {
			tlsScheme = true
		}
		host := u.Hostname()
		if host == "localhost" {
			continue
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			continue
		}
		remote = true
	}
	return remote, tlsScheme, nil
}

// credsOption reads a credentials file: a NATS .creds file (JWT and nkey seed), or
// "user=" and "password=" lines.
func credsOption(path string) (nats.Option, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	if bytes.Contains(b, []byte("-----BEGIN NATS USER JWT-----")) {
		return nats.UserCredentials(path), nil
	}
	var user, pass string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: want a NATS .creds file or lines user=NAME and password=SECRET", path)
		}
		switch strings.TrimSpace(k) {
		case "user":
			user = strings.TrimSpace(v)
		case "password":
			pass = strings.TrimSpace(v)
		default:
			return nil, fmt.Errorf("%s: unknown key %q (want user and password)", path, k)
		}
	}
	if user == "" || pass == "" {
		return nil, errors.New(path + ": needs both user= and password=")
	}
	return nats.UserInfo(user, pass), nil
}
