package workqueue

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ServerConfig configures an embedded NATS server with JetStream.
type ServerConfig struct {
	// StoreDir is where JetStream keeps its streams. Tasks hold witnesses (balances and salts):
	// keep it private (mode 0700, beside the bundle's private directory).
	StoreDir string
	// Host is the listen address; empty means 127.0.0.1. Anything off loopback needs TLS and
	// credentials: configure a real NATS server for that (docs/scale-out.md).
	Host string
	// Port is the client port; 0 picks a free one.
	Port int
	// NoListen serves in-process connections only (local workers in this process).
	NoListen bool
}

// Server is an embedded NATS server with JetStream.
type Server struct {
	ns *server.Server
}

// StartServer starts an embedded server and waits until it accepts connections.
func StartServer(cfg ServerConfig) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("embedded NATS server: no JetStream store directory")
	}
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("embedded NATS server: %s is not a loopback address; serve other machines from a NATS server configured with TLS and credentials (docs/scale-out.md)", host)
	}
	port := cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "solvency-embedded",
		Host:       host,
		Port:       port,
		DontListen: cfg.NoListen,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		MaxPayload: MaxTaskBytes + 64<<10,
		NoSigs:     true,
		NoLog:      true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded NATS server did not start within 30s")
	}
	return &Server{ns: ns}, nil
}

// URL is the server's client URL (nats://127.0.0.1:PORT).
func (s *Server) URL() string { return s.ns.ClientURL() }

// Connect opens an in-process connection (no socket) to the server.
func (s *Server) Connect(name string) (*nats.Conn, error) {
	nc, err := nats.Connect("", nats.InProcessServer(s.ns), nats.Name(name), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("connect to the embedded NATS server: %w", err)
	}
	return nc, nil
}

// Close shuts the server down and waits for it.
func (s *Server) Close() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
