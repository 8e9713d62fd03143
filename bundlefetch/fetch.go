// Package bundlefetch downloads a published bundle over http(s) from the base URL the registry
// records, trusting nothing it receives until a digest pins it: the manifest's bytes must hash to
// the digest recorded on chain (passed by the caller) before they are parsed, and every other
// file must hash to the digest the manifest lists for it. Each file is read through a size
// limit fitted to its kind, and the whole download runs under a timeout (V8). The result is held
// in memory and can be written to a directory for the offline verifier.
package bundlefetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/solvency-dev/solvency/bundle"
)

// Limits fitted to each kind of file. A Groth16 BN254 proof is a few hundred bytes, a verifying
// key a few kilobytes per public input; a manifest grows with the batch count (about 1 KiB per
// batch), so 64 MiB covers tens of thousands of batches.
const (
	DefaultMaxManifest = 64 << 20
	DefaultMaxProof    = 64 << 10
	DefaultMaxKey      = 16 << 20
	DefaultMaxTotal    = 1 << 30
	DefaultTimeout     = 2 * time.Minute
	DefaultParallel    = 8
	maxRedirects       = 3
)

// Options bound a download. Zero values take the defaults above.
type Options struct {
	Client      *http.Client // nil: a client with Timeout and at most 3 redirects
	Timeout     time.Duration
	MaxManifest int64
	MaxProof    int64
	MaxKey      int64
	MaxTotal    int64 // all files together
	Parallel    int
	// Progress, when set, is told after each file (done of total); it must be safe for
	// concurrent use.
	Progress func(done, total int)
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxManifest <= 0 {
		o.MaxManifest = DefaultMaxManifest
	}
	if o.MaxProof <= 0 {
		o.MaxProof = DefaultMaxProof
	}
	if o.MaxKey <= 0 {
		o.MaxKey = DefaultMaxKey
	}
	if o.MaxTotal <= 0 {
		o.MaxTotal = DefaultMaxTotal
	}
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.Client == nil {
		o.Client = &http.Client{
			Timeout: o.Timeout,
			CheckRedirect: func(_ *http.Request, via []*http.Request) error {
				if len(via) >= maxRedirects {
					return fmt.Errorf("more than %d redirects", maxRedirects)
				}
				return nil
			},
		}
	}
}

// Bundle is a downloaded bundle whose every byte matched its digest.
type Bundle struct {
	URL            string            // the base URL the files came from
	ManifestSHA256 string            // lowercase hex, equal to the digest the caller expected
	Manifest       *bundle.Manifest  // parsed only after its digest matched
	Files          map[string][]byte // bundle-relative slash path -> bytes, manifest.json included
	Bytes          int64             // total downloaded
}

// DigestError is a file whose bytes do not hash to the digest that pins them.
type DigestError struct {
	URL  string // where the bytes came from
	Got  string
	Want string
	What string // "manifest" or the file's bundle path
}

func (e *DigestError) Error() string {
	if e.What == bundle.ManifestFile {
		return fmt.Sprintf("%s: the manifest's sha256 is %s, but the digest recorded on chain is %s: the bundle at this URL is not the one attested", e.URL, e.Got, e.Want)
	}
	return fmt.Sprintf("%s: sha256 %s, but the manifest pins %s for %s: the file was changed", e.URL, e.Got, e.Want, e.What)
}

// IsRemote reports whether uri is an http(s) URL this package fetches.
func IsRemote(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// NormalizeDigest accepts a sha256 digest as 64 hex digits, with or without 0x, any case, and
// returns it lowercase without the prefix.
func NormalizeDigest(d string) (string, error) {
	s := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(d, "0x"), "0X"))
	if len(s) != 64 {
		return "", fmt.Errorf("digest %q: want 64 hex digits", d)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("digest %q: %w", d, err)
	}
	return s, nil
}

// Fetch downloads the bundle at base (an http or https URL of the bundle's directory) whose
// manifest must hash to expectDigest (the bundle digest recorded on chain).
func Fetch(ctx context.Context, base, expectDigest string, opt Options) (*Bundle, error) {
	opt.defaults()
	want, err := NormalizeDigest(expectDigest)
	if err != nil {
		return nil, err
	}
	if !IsRemote(base) {
		return nil, fmt.Errorf("bundle URL %q: want an http:// or https:// URL", base)
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	base = strings.TrimRight(base, "/")
	b := &Bundle{URL: base, Files: map[string][]byte{}}

	murl := base + "/" + bundle.ManifestFile
	raw, err := get(ctx, opt.Client, murl, opt.MaxManifest)
	if err != nil {
		return nil, err
	}
	// Not one byte of the manifest is parsed before its digest matches the chain's.
	if got := sha256Hex(raw); got != want {
		return nil, &DigestError{URL: murl, Got: got, Want: want, What: bundle.ManifestFile}
	}
	m, err := bundle.DecodeManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", murl, err)
	}
	b.Manifest, b.ManifestSHA256, b.Bytes = m, want, int64(len(raw))
	b.Files[bundle.ManifestFile] = raw

	files, err := Listed(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", murl, err)
	}
	if err := b.fetchAll(ctx, files, opt); err != nil {
		return nil, err
	}
	return b, nil
}

// File is one bundle file the manifest pins.
type File struct {
	Path   string // bundle-relative, slash-separated
	SHA256 string
	Max    int64 // 0: the option's limit for its kind
	key    bool
}

// Listed returns every file the manifest pins besides itself, with the path the prover writes
// for each: a path the prover would not write (one that could leave the bundle) is refused.
func Listed(m *bundle.Manifest) ([]File, error) {
	if len(m.Batches) > 1<<24 {
		return nil, fmt.Errorf("%d batches is more than any bundle this tool fetches", len(m.Batches))
	}
	out := make([]File, 0, len(m.Batches)+3)
	add := func(p, want, digest string, key bool) error {
		if p != want {
			return fmt.Errorf("file %q: the bundle layout names it %q", p, want)
		}
		d, err := NormalizeDigest(digest)
		if err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
		out = append(out, File{Path: p, SHA256: d, key: key})
		return nil
	}
	if err := add(bundle.BatchVKFile, bundle.BatchVKFile, m.Keys.BatchVK, true); err != nil {
		return nil, err
	}
	if err := add(bundle.SolvencyVKFile, bundle.SolvencyVKFile, m.Keys.SolvencyVK, true); err != nil {
		return nil, err
	}
	if err := add(m.Solvency.Path, bundle.SolvencyProof, m.Solvency.SHA256, false); err != nil {
		return nil, err
	}
	for i, bt := range m.Batches {
		if err := add(bt.Path, bundle.BatchProofPath(i), bt.SHA256, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (b *Bundle) fetchAll(ctx context.Context, files []File, opt Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		done  int
		wg    sync.WaitGroup
		next  = make(chan File)
	)
	for range opt.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				limit := opt.MaxProof
				if f.key {
					limit = opt.MaxKey
				}
				u := b.URL + "/" + f.Path
				data, err := get(ctx, opt.Client, u, limit)
				if err == nil {
					if got := sha256Hex(data); got != f.SHA256 {
						err = &DigestError{URL: u, Got: got, Want: f.SHA256, What: f.Path}
					}
				}
				mu.Lock()
				if err == nil {
					b.Bytes += int64(len(data))
					if b.Bytes > opt.MaxTotal {
						err = fmt.Errorf("%s: the bundle is larger than %d bytes", b.URL, opt.MaxTotal)
					}
				}
				if err != nil {
					if first == nil {
						first = err
						cancel()
					}
				} else {
					b.Files[f.Path] = data
					done++
					if opt.Progress != nil {
						opt.Progress(done, len(files))
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		select {
		case next <- f:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// get downloads one URL, refusing it past limit bytes before reading more than limit+1.
func get(ctx context.Context, c *http.Client, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: %s", u, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("fetch %s: %d bytes is more than the %d this kind of file may have", u, resp.ContentLength, limit)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	if n > limit {
		return nil, fmt.Errorf("fetch %s: more than the %d bytes this kind of file may have", u, limit)
	}
	return buf.Bytes(), nil
}

// WriteDir writes the bundle's files under dir (created if needed), so the offline verifier can
// read them. Paths were checked by Listed: none leaves dir.
func (b *Bundle) WriteDir(dir string) error {
	names := make([]string, 0, len(b.Files))
	for p := range b.Files {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		clean := path.Clean(p)
		if clean != p || strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
			return fmt.Errorf("bundle path %q leaves the bundle", p)
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("write bundle: %w", err)
		}
		if err := os.WriteFile(dst, b.Files[p], 0o644); err != nil {
			return fmt.Errorf("write bundle: %w", err)
		}
	}
	return nil
}

// FetchDir is Fetch followed by WriteDir into a new temporary directory; the caller removes the
// returned directory when done.
func FetchDir(ctx context.Context, base, expectDigest string, opt Options) (*Bundle, string, error) {
	b, err := Fetch(ctx, base, expectDigest, opt)
	if err != nil {
		return nil, "", err
	}
	dir, err := os.MkdirTemp("", "solvency-bundle-")
	if err != nil {
		return nil, "", fmt.Errorf("fetch bundle: %w", err)
	}
	if err := b.WriteDir(dir); err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	return b, dir, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
