// Package boundedfile reads untrusted files within bounds: opened as regular files only (a link
// to a device, a directory or a FIFO is refused before anything is read from it), and read
// through a size limit fitted to the file's kind, refused past it before a buffer of that size is
// allocated. A bundle's files, proofs, keys, pins and every input file go through it.
package boundedfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Kind names a kind of file and the largest such file this project will read.
type Kind struct {
	Name string
	Max  int64
}

// Limits, each generous for what the project writes and far below what would strain memory.
var (
	// Proof: a compressed BN254 Groth16 proof is a few hundred bytes.
	Proof = Kind{"proof", 64 << 10}
	// VerifyingKey: 32 bytes per public input plus a few hundred; our circuits have few inputs.
	VerifyingKey = Kind{"verifying key", 4 << 20}
	// Manifest: dominated by the tree above the batches (about 70 bytes per batch slot).
	Manifest = Kind{"manifest", 64 << 20}
	// Pins: a handful of digests.
	Pins = Kind{"pins file", 1 << 20}
	// InclusionProof: one account's path, a few kilobytes at any supported depth.
	InclusionProof = Kind{"inclusion proof", 4 << 20}
	// Reserves: a reserves opening or an auditor's observed balances, one record per position.
	Reserves = Kind{"reserves file", 16 << 20}
	// Statement: a statement.json, with its proof, is a few kilobytes.
	Statement = Kind{"statement", 1 << 20}
	// Config: operator JSON inputs (policy, prices, positions, assets, run and rebalance
	// configuration, executor settings, totals, addresses).
	Config = Kind{"configuration file", 16 << 20}
	// Ceremony: one contribution, circuit or transcript file of the setup ceremony (phase-1
	// contributions grow with the largest circuit: hundreds of MB at 2^22 constraints).
	Ceremony = Kind{"ceremony file", 4 << 30}
	// KeyFile: a signing key, 64 hex digits and perhaps a newline.
	KeyFile = Kind{"key file", 4 << 10}
	// CSV: an accounts snapshot; 64 bytes per account for 100 million accounts.
	CSV = Kind{"accounts CSV", 8 << 30}
)

// ErrTooLarge marks a file larger than its kind allows.
var ErrTooLarge = errors.New("refused before reading it")

// ErrNotRegular marks a path that is not a regular file (a directory, device, FIFO or socket).
var ErrNotRegular = errors.New("want a regular file")

// File is an open regular file whose size has been checked against its kind.
type File struct {
	*os.File
	Size int64
	kind Kind
	path string
}

// Open opens path for reading as a regular file of kind k. It checks the path before opening it
// (so that a FIFO is not opened, which would block, and a device not touched), opens without
// blocking, then checks the opened descriptor again (the path may have been swapped between).
func Open(path string, k Kind) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", k.Name, path, err)
	}
	if err := check(path, k, st); err != nil {
		return nil, err
	}
	f, err := openNoBlock(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", k.Name, path, err)
	}
	st, err = f.Stat()
	if err == nil {
		err = check(path, k, st)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{File: f, Size: st.Size(), kind: k, path: path}, nil
}

func check(path string, k Kind, st os.FileInfo) error {
	if !st.Mode().IsRegular() {
		what := "not a regular file"
		switch m := st.Mode(); {
		case m.IsDir():
			what = "a directory"
		case m&os.ModeDevice != 0:
			what = "a device"
		case m&os.ModeNamedPipe != 0:
			what = "a named pipe"
		case m&os.ModeSocket != 0:
			what = "a socket"
		}
		return fmt.Errorf("%s %s is %s: %w", k.Name, path, what, ErrNotRegular)
	}
	if st.Size() > k.Max {
		return tooLarge(path, k, st.Size())
	}
	return nil
}

func tooLarge(path string, k Kind, size int64) error {
	return fmt.Errorf("%s %s is %s, over the %s limit: %w", k.Name, path, human(size), human(k.Max), ErrTooLarge)
}

// Reader returns a reader that fails with ErrTooLarge past the kind's limit (the file may grow
// after it was opened).
func (f *File) Reader() io.Reader { return &limited{f: f, left: f.kind.Max} }

type limited struct {
	f    *File
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.f.File.Read(one[:]); n > 0 {
			return 0, tooLarge(l.f.path, l.f.kind, l.f.kind.Max+1)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.f.File.Read(p)
	l.left -= int64(n)
	return n, err
}

// ReadFile reads the whole of path, a regular file of kind k, into memory. Its buffer is sized
// from the checked file size, never from the limit.
func ReadFile(path string, k Kind) ([]byte, error) {
	f, err := Open(path, k)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, f.Size+1)
	r := f.Reader()
	for {
		if len(buf) == cap(buf) {
			// The file grew since it was measured: grow within the limit only.
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return nil, err
			}
			return nil, fmt.Errorf("read %s %s: %w", k.Name, path, err)
		}
	}
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
