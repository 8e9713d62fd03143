// Package serve is `solvency serve`'s handler: read-only HTTP over an engine's state directory.
// It serves the published bundles by manifest digest, and within a bundle only the files its
// manifest pins (so the private store, the keys' secrets, the RC opening and the engine's own
// state are never reachable, whatever else lies in the directory); the users' page; the
// operators' cycle report; the public verifying-key digests; and, when given the chain's RPC
// URL, a proxy that forwards only read-only JSON-RPC methods.
package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/bundlefetch"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/prover/keys"
)

// Options configure the handler.
type Options struct {
	// StateDir is the engine's state directory (or the demo's directory holding state/).
	StateDir string
	// RPC, when set, is the chain's JSON-RPC URL that /rpc forwards read-only calls to.
	RPC string
	// Page holds the users' page (index.html at its root).
	Page fs.FS
	// Report renders the operators' report; nil serves none.
	Report func() ([]byte, error)
}

// ResolveState returns the engine state directory for dir: dir itself, or dir/state when dir is
// the demo's directory.
func ResolveState(dir string) (string, error) {
	if st, err := os.Stat(filepath.Join(dir, "state", "cycles")); err == nil && st.IsDir() {
		return filepath.Join(dir, "state"), nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("state directory %s: not a directory", dir)
	}
	return dir, nil
}

// Server is the handler.
type Server struct {
	opt   Options
	state string
	mux   *http.ServeMux

	mu    sync.Mutex
	index map[string]string // manifest digest -> bundle directory
}

// New makes the handler.
func New(opt Options) (*Server, error) {
	st, err := ResolveState(opt.StateDir)
	if err != nil {
		return nil, err
	}
	s := &Server{opt: opt, state: st, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/verify/", http.StatusFound)
	})
	if opt.Page != nil {
		s.mux.Handle("GET /verify/", http.StripPrefix("/verify/", http.FileServerFS(opt.Page)))
	}
	s.mux.HandleFunc("GET /bundles/{$}", s.listBundles)
	s.mux.HandleFunc("GET /bundles/{digest}/{path...}", s.bundleFile)
	s.mux.HandleFunc("GET /config.json", s.config)
	s.mux.HandleFunc("GET /pins.json", s.pins)
	s.mux.HandleFunc("GET /report", s.report)
	if opt.RPC != "" {
		s.mux.HandleFunc("POST /rpc", s.rpc)
	}
	return s, nil
}

// ServeHTTP implements http.Handler; every answer is read-only.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// BundleEntry is one published bundle the server holds.
type BundleEntry struct {
	Digest string `json:"digest"`
	Cycle  uint64 `json:"cycle"`
	URL    string `json:"url"`
}

// Bundles lists the bundles in the state directory, by cycle.
func (s *Server) Bundles() ([]BundleEntry, error) {
	dirs, err := filepath.Glob(filepath.Join(s.state, "cycles", "*", "bundle"))
	if err != nil {
		return nil, err
	}
	idx := map[string]string{}
	var out []BundleEntry
	for _, d := range dirs {
		m, raw, err := bundle.ReadManifestRaw(d)
		if err != nil {
			continue // a cycle still being proven, or a broken one: not served
		}
		dg := bundle.SHA256Hex(raw)
		idx[dg] = d
		out = append(out, BundleEntry{Digest: dg, Cycle: m.Statement.Cycle, URL: "/bundles/" + dg})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cycle < out[j].Cycle })
	s.mu.Lock()
	s.index = idx
	s.mu.Unlock()
	return out, nil
}

func (s *Server) listBundles(w http.ResponseWriter, r *http.Request) {
	bs, err := s.Bundles()
	if err != nil {
		http.Error(w, "cannot list bundles", http.StatusInternalServerError)
		return
	}
	writeJSON(w, bs)
}

func (s *Server) lookup(digest string) (string, bool) {
	s.mu.Lock()
	d, ok := s.index[digest]
	s.mu.Unlock()
	if ok {
		return d, true
	}
	if _, err := s.Bundles(); err != nil {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok = s.index[digest]
	return d, ok
}

// bundleFile serves manifest.json and the files that manifest pins, nothing else.
func (s *Server) bundleFile(w http.ResponseWriter, r *http.Request) {
	digest, err := bundlefetch.NormalizeDigest(r.PathValue("digest"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	dir, ok := s.lookup(digest)
	if !ok {
		http.NotFound(w, r)
		return
	}
	m, raw, err := bundle.ReadManifestRaw(dir)
	if err != nil || bundle.SHA256Hex(raw) != digest {
		// The bundle changed on disk since it was indexed: serve nothing rather than a mix.
		http.Error(w, "bundle changed on disk", http.StatusConflict)
		return
	}
	p := r.PathValue("path")
	if p == bundle.ManifestFile {
		serveBytes(w, r, raw, "application/json")
		return
	}
	files, err := bundlefetch.Listed(m)
	if err != nil {
		http.Error(w, "bundle layout", http.StatusInternalServerError)
		return
	}
	for _, f := range files {
		if f.Path != p {
			continue
		}
		data, err := readRegular(filepath.Join(dir, filepath.FromSlash(f.Path)), 64<<20)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		serveBytes(w, r, data, "application/octet-stream")
		return
	}
	http.NotFound(w, r)
}

// readRegular reads a regular file (no link, device or directory) within limit bytes.
func readRegular(path string, limit int64) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

func serveBytes(w http.ResponseWriter, r *http.Request, b []byte, ctype string) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// Config is what the page needs to find the registry: public facts only.
type Config struct {
	RPC      string `json:"rpc,omitempty"` // "/rpc" when this server proxies the chain
	Registry string `json:"registry,omitempty"`
	ChainID  string `json:"chainId,omitempty"`
	Pins     string `json:"pins,omitempty"` // "/pins.json" when the state holds keys
	Trust    string `json:"trust,omitempty"`
}

func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	var c Config
	if s.opt.RPC != "" {
		c.RPC = "/rpc"
	}
	if a, err := contracts.ReadAddresses(filepath.Join(s.state, "addresses.json")); err == nil {
		c.Registry, c.ChainID = a.Registry.Hex(), a.ChainID
	}
	if meta, err := keys.ReadMetadata(filepath.Join(s.state, "keys")); err == nil {
		c.Pins, c.Trust = "/pins.json", string(meta.Trust)
	}
	writeJSON(w, c)
}

// pins serves the verifying keys' digests (public), never the keys' files themselves.
func (s *Server) pins(w http.ResponseWriter, r *http.Request) {
	meta, err := keys.ReadMetadata(filepath.Join(s.state, "keys"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	p := keys.Pins{VerifyingKeys: map[string]string{}}
	for _, c := range meta.Circuits {
		p.VerifyingKeys[c.Name] = c.VKDigest
	}
	if meta.Ceremony != nil {
		p.TranscriptDigest = meta.Ceremony.TranscriptDigest
	}
	writeJSON(w, p)
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	if s.opt.Report == nil {
		http.NotFound(w, r)
		return
	}
	b, err := s.opt.Report()
	if err != nil {
		http.Error(w, "report: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}

// readOnlyRPC are the JSON-RPC methods the proxy forwards: reads of chain state only.
var readOnlyRPC = map[string]bool{
	"eth_chainId": true, "eth_blockNumber": true, "eth_getLogs": true, "eth_call": true,
	"eth_getBlockByNumber": true, "eth_getTransactionReceipt": true, "eth_getCode": true, "net_version": true,
}

const maxRPCRequest = 64 << 10

func (s *Server) rpc(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRPCRequest+1))
	if err != nil || len(body) > maxRPCRequest {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	var req struct {
		Method string `json:"method"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "want one JSON-RPC request", http.StatusBadRequest)
		return
	}
	if !readOnlyRPC[req.Method] {
		http.Error(w, fmt.Sprintf("method %q is not forwarded: this proxy only reads", req.Method), http.StatusForbidden)
		return
	}
	up, err := http.NewRequestWithContext(r.Context(), http.MethodPost, s.opt.RPC, bytes.NewReader(body))
	if err != nil {
		http.Error(w, "proxy", http.StatusInternalServerError)
		return
	}
	up.Header.Set("Content-Type", "application/json")
	cl := &http.Client{Timeout: 30 * time.Second}
	resp, err := cl.Do(up)
	if err != nil {
		http.Error(w, "chain unreachable", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, 256<<20))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		return
	}
}
