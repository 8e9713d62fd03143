package bundlefetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/internal/cyclefixture"
	"github.com/solvency-dev/solvency/verifier"
)

var fx *cyclefixture.Fixture

func TestMain(m *testing.M) { cyclefixture.Main(m, "bundlefetch-", &fx) }

func manifestDigest(t *testing.T, dir string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, bundle.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	return bundle.SHA256Hex(raw)
}

func TestFetchHonestBundleVerifies(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir(fx.Bundle)))
	defer srv.Close()
	var calls int
	b, dir, err := FetchDir(context.Background(), srv.URL+"/", "0x"+strings.ToUpper(manifestDigest(t, fx.Bundle)),
		Options{Progress: func(done, total int) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if b.URL != srv.URL {
		t.Errorf("URL %q, want %q", b.URL, srv.URL)
	}
	if want := len(b.Manifest.Batches) + 3; calls != want {
		t.Errorf("progress called %d times, want %d", calls, want)
	}
	rep, err := verifier.VerifyBundle(dir, fx.Pins, verifier.Options{})
	if err != nil || !rep.Valid {
		t.Fatalf("fetched bundle does not verify: %v %+v", err, rep.Failed())
	}
}

func TestV5_FetchRefusesManifestNotRecordedOnChain(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir(fx.Bundle)))
	defer srv.Close()
	other := strings.Repeat("ab", 32)
	_, err := Fetch(context.Background(), srv.URL, other, Options{})
	var de *DigestError
	if !errors.As(err, &de) || de.What != bundle.ManifestFile || !strings.Contains(err.Error(), other) {
		t.Fatalf("want the manifest refused naming the on-chain digest, got %v", err)
	}
}

func TestV5_FetchRefusesChangedProofByte(t *testing.T) {
	changed := bundle.BatchProofPath(1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rel := strings.TrimPrefix(r.URL.Path, "/")
		data, err := os.ReadFile(filepath.Join(fx.Bundle, filepath.FromSlash(rel)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if rel == changed {
			data[len(data)/2] ^= 1
		}
		w.Write(data)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, err := Fetch(context.Background(), srv.URL, manifestDigest(t, fx.Bundle), Options{})
	var de *DigestError
	if !errors.As(err, &de) || de.What != changed || !strings.Contains(err.Error(), de.Want) {
		t.Fatalf("want %s refused with its pinned digest named, got %v", changed, err)
	}
}

func TestV8_FetchRefusesOversizedFile(t *testing.T) {
	// An endless body with no length: refused after limit+1 bytes, not read to the end.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1<<16)
		for i := 0; i < 1<<14; i++ {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	start := time.Now()
	_, err := Fetch(context.Background(), srv.URL, manifestDigest(t, fx.Bundle), Options{MaxManifest: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("want an oversized manifest refused, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
	// A declared length past the limit is refused before reading.
	h2 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000000")
		w.Write([]byte("x"))
	})
	srv2 := httptest.NewServer(h2)
	defer srv2.Close()
	if _, err := Fetch(context.Background(), srv2.URL, manifestDigest(t, fx.Bundle), Options{}); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("want a declared oversized manifest refused, got %v", err)
	}
}

func TestV8_FetchTimesOut(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer close(release)
	start := time.Now()
	_, err := Fetch(context.Background(), srv.URL, manifestDigest(t, fx.Bundle), Options{Timeout: 300 * time.Millisecond})
	if err == nil {
		t.Fatal("a server that never answers was accepted")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %s", d)
	}
}

func TestFetchRefusesPathsOutsideTheLayout(t *testing.T) {
	m, err := bundle.ReadManifest(fx.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	m.Batches[0].Path = "../../etc/passwd"
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(raw) })
	srv := httptest.NewServer(h)
	defer srv.Close()
	if _, err := Fetch(context.Background(), srv.URL, bundle.SHA256Hex(raw), Options{}); err == nil || !strings.Contains(err.Error(), "layout") {
		t.Fatalf("want a path outside the layout refused, got %v", err)
	}
}

func TestFetchRefusesNonHTTP(t *testing.T) {
	for _, u := range []string{"file:///tmp/x", "ftp://h/x", "/tmp/x", "http://"} {
		if _, err := Fetch(context.Background(), u, strings.Repeat("0", 64), Options{}); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if _, err := NormalizeDigest("0x12"); err == nil {
		t.Error("short digest accepted")
	}
}
