package boundedfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadsARegularFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(p, Proof)
	if err != nil || string(b) != "hello" {
		t.Fatalf("%q %v", b, err)
	}
	// A symlink to a regular file is followed: the opened file is what is checked.
	l := filepath.Join(t.TempDir(), "l")
	if err := os.Symlink(p, l); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(l, Proof); err != nil || string(b) != "hello" {
		t.Fatalf("%q %v", b, err)
	}
}

// measure runs f and returns how long it took and the bytes it allocated on the heap.
func measure(f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, after.TotalAlloc - before.TotalAlloc
}

func TestV8_OneGiBFileRefusedQuicklyInLittleMemory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.proof")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	for _, k := range []Kind{Proof, VerifyingKey, Manifest, Pins, InclusionProof, Statement, Config} {
		var err error
		d, alloc := measure(func() { _, err = ReadFile(p, k) })
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1.0 GiB") {
			t.Fatalf("%s: %v", k.Name, err)
		}
		if d > time.Second || alloc > 1<<20 {
			t.Fatalf("%s: refusing took %s and %d bytes", k.Name, d, alloc)
		}
		t.Logf("%s: refused a 1 GiB file in %s, %d bytes allocated: %v", k.Name, d, alloc, err)
	}
}

func TestV8_LinkToDevZeroRefused(t *testing.T) {
	l := filepath.Join(t.TempDir(), "batch.vk")
	if err := os.Symlink("/dev/zero", l); err != nil {
		t.Fatal(err)
	}
	var err error
	d, alloc := measure(func() { _, err = ReadFile(l, VerifyingKey) })
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a device") {
		t.Fatalf("link to /dev/zero: %v", err)
	}
	if d > time.Second || alloc > 1<<20 {
		t.Fatalf("refusing took %s and %d bytes", d, alloc)
	}
	t.Logf("refused in %s, %d bytes allocated: %v", d, alloc, err)
}

func TestV8_DirectoryAndFIFORefused(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(dir, Manifest); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a directory") {
		t.Fatalf("directory: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile(fifo, Pins); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") {
			t.Fatalf("fifo: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
}

func TestV8_FileGrowingPastItsLimitRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("0123"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p, Kind{"tiny", 8})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Grow the file after it was measured.
	if err := os.WriteFile(p, []byte("0123456789abcdef"), 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	var total int
	r := f.Reader()
	for {
		n, err := r.Read(buf[total:])
		total += n
		if err != nil {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("want ErrTooLarge, got %v after %d bytes", err, total)
			}
			break
		}
		if total > 8 {
			t.Fatalf("read %d bytes past the limit", total)
		}
	}
}

// BenchmarkRefuseOneGiB reports what refusing a 1 GiB file costs.
func BenchmarkRefuseOneGiB(b *testing.B) {
	p := filepath.Join(b.TempDir(), "huge")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	f.Truncate(1 << 30)
	f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadFile(p, Manifest); err == nil {
			b.Fatal("accepted")
		}
	}
}
