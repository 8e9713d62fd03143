// Package groth16bounds checks the length prefixes of a compressed BN254 Groth16 verifying key
// or proof against the bytes that follow, before gnark's decoder reads them.
package groth16bounds

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// gnark's decoders allocate a slice as long as the length prefix they read, before reading its
// elements: a 292-byte verifying key whose point-count prefix said 3.4 billion asked for 218 GB.
// The walkers below follow the compressed encoding (the only one ReadVerifyingKey and ReadProof
// accept, being canonical) and check every length prefix against the bytes that remain, so
// that what gnark allocates is bounded by the input's size.

const (
	g1Compressed = 32
	g2Compressed = 64
	// A Pedersen verifying key is two compressed G2 points.
	pedersenVK = 2 * g2Compressed
)

var errShort = errors.New("truncated")

type layout struct {
	b   []byte
	off int
}

func (l *layout) points(n int, size int, what string) error {
	for i := 0; i < n; i++ {
		if len(l.b)-l.off < size {
			return fmt.Errorf("%s: %w", what, errShort)
		}
		// The top two bits of a point's first byte say whether it is compressed; 00 is not.
		if l.b[l.off]>>6 == 0 {
			return fmt.Errorf("%s: point %d is not in compressed form", what, i)
		}
		l.off += size
	}
	return nil
}

// count reads a uint32 length prefix and checks that count elements of at least minSize bytes
// each fit in what remains.
func (l *layout) count(minSize int, what string) (int, error) {
	if len(l.b)-l.off < 4 {
		return 0, fmt.Errorf("%s length: %w", what, errShort)
	}
	n := int(binary.BigEndian.Uint32(l.b[l.off:]))
	l.off += 4
	if rest := len(l.b) - l.off; n > rest/max(minSize, 1) {
		return 0, fmt.Errorf("%s: the length prefix says %d, but only %d bytes follow", what, n, rest)
	}
	return n, nil
}

// VerifyingKey checks a compressed BN254 Groth16 verifying key's length prefixes:
// [α]1 [β]1 [β]2 [γ]2 [δ]1 [δ]2, len+[K]1, len+[len+[uint64]], len+[pedersen vk].
func VerifyingKey(b []byte) error {
	l := &layout{b: b}
	for _, p := range []struct {
		size int
		what string
	}{{g1Compressed, "alpha"}, {g1Compressed, "beta (G1)"}, {g2Compressed, "beta (G2)"},
		{g2Compressed, "gamma"}, {g1Compressed, "delta (G1)"}, {g2Compressed, "delta (G2)"}} {
		if err := l.points(1, p.size, p.what); err != nil {
			return err
		}
	}
	n, err := l.count(g1Compressed, "K")
	if err != nil {
		return err
	}
	if err := l.points(n, g1Compressed, "K"); err != nil {
		return err
	}
	outer, err := l.count(4, "committed public inputs")
	if err != nil {
		return err
	}
	for range outer {
		inner, err := l.count(8, "committed public inputs")
		if err != nil {
			return err
		}
		l.off += 8 * inner
	}
	c, err := l.count(pedersenVK, "commitment keys")
	if err != nil {
		return err
	}
	return l.points(2*c, g2Compressed, "commitment keys")
}

// Proof checks a compressed BN254 Groth16 proof's length prefix:
// Ar (G1) Bs (G2) Krs (G1), len+[commitment]1, commitment PoK (G1).
func Proof(b []byte) error {
	l := &layout{b: b}
	if err := l.points(1, g1Compressed, "Ar"); err != nil {
		return err
	}
	if err := l.points(1, g2Compressed, "Bs"); err != nil {
		return err
	}
	if err := l.points(1, g1Compressed, "Krs"); err != nil {
		return err
	}
	n, err := l.count(g1Compressed, "commitments")
	if err != nil {
		return err
	}
	if err := l.points(n, g1Compressed, "commitments"); err != nil {
		return err
	}
	return l.points(1, g1Compressed, "commitment proof of knowledge")
}
