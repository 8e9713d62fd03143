package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestWriteFailureLeavesOldContent: a failed write leaves the old file and no temporary file.
func TestWriteFailureLeavesOldContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("content %q after a failed write", b)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Fatalf("left behind: %v", got)
	}
}

// TestDirIsCompleteOrAbsent: a failed fill leaves no directory; an existing one is kept unless
// replace is set, and then swapped whole.
func TestDirIsCompleteOrAbsent(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	err := Dir(out, false, func(tmp string) error {
		os.WriteFile(filepath.Join(tmp, "a"), []byte("a"), 0o644)
		return errors.New("interrupted")
	})
	if err == nil {
		t.Fatal("fill error not returned")
	}
	if got := entries(t, parent); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
	fill := func(name string) func(string) error {
		return func(tmp string) error { return os.WriteFile(filepath.Join(tmp, name), nil, 0o644) }
	}
	if err := Dir(out, false, fill("first")); err != nil {
		t.Fatal(err)
	}
	if err := Dir(out, false, fill("second")); err == nil {
		t.Fatal("an existing directory was replaced without replace")
	}
	if err := Dir(out, true, fill("second")); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, out); len(got) != 1 || got[0] != "second" {
		t.Fatalf("after replace: %v", got)
	}
	if got := entries(t, parent); len(got) != 1 {
		t.Fatalf("parent holds %v", got)
	}
}
