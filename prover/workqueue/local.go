package workqueue

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/solvency-dev/solvency/prover/keys"
)

// Local is a JetStream server embedded in this process with workers on goroutines: the queue
// path on one machine, with nothing to install.
type Local struct {
	Server *Server
	Coord  *Coordinator

	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
}

// StartLocal starts an embedded server keeping its streams in storeDir (in-process connections
// only) and n workers proving with c held in memory, and returns it with a coordinator to set
// as the cycle's batch backend. Close stops everything.
func StartLocal(ctx context.Context, storeDir string, c *keys.Circuit, n int) (*Local, error) {
	if n < 1 {
		return nil, fmt.Errorf("local workers: %d, want at least 1", n)
	}
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return nil, fmt.Errorf("JetStream store: %w", err)
	}
	srv, err := StartServer(ServerConfig{StoreDir: storeDir, NoListen: true})
	if err != nil {
		return nil, err
	}
	l := &Local{Server: srv}
	conn, err := srv.Connect("solvency-coordinator")
	if err != nil {
		srv.Close()
		return nil, err
	}
	l.Coord = &Coordinator{Conn: conn, Circuit: c}
	// The consumer must exist before the workers bind to it.
	if _, _, err := l.Coord.Setup(ctx); err != nil {
		l.Close()
		return nil, err
	}
	ref := *l.Coord.ref
	wctx, cancel := context.WithCancel(ctx)
	l.cancel = cancel
	for k := range n {
		wc, err := srv.Connect(fmt.Sprintf("solvency-local-worker-%d", k))
		if err != nil {
			l.Close()
			return nil, err
		}
		w := &Worker{Conn: wc, Name: fmt.Sprintf("local-%d", k), Keys: &Circuit{Ref: ref, Circuit: c}}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer wc.Close()
			if err := w.Run(wctx); err != nil {
				l.mu.Lock()
				l.errs = append(l.errs, err)
				l.mu.Unlock()
			}
		}()
	}
	return l, nil
}

// Close stops the workers and the server; it returns the first error a worker stopped with.
func (l *Local) Close() error {
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
	if l.Coord != nil && l.Coord.Conn != nil {
		l.Coord.Conn.Close()
	}
	l.Server.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		return l.errs[0]
	}
	return nil
}
