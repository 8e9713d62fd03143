package groth16bounds

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254"
)

// header is a verifying key's six fixed points (compressed generators), 288 bytes.
func header() []byte {
	_, _, g1, g2 := bn254.Generators()
	a, b := g1.Bytes(), g2.Bytes()
	var out []byte
	for _, p := range [][]byte{a[:], a[:], b[:], b[:], a[:], b[:]} {
		out = append(out, p...)
	}
	return out
}

func vk(k int, committed [][]uint64, commitments int) []byte {
	_, _, g1, g2 := bn254.Generators()
	a, b := g1.Bytes(), g2.Bytes()
	out := binary.BigEndian.AppendUint32(header(), uint32(k))
	for range k {
		out = append(out, a[:]...)
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(committed)))
	for _, c := range committed {
		out = binary.BigEndian.AppendUint32(out, uint32(len(c)))
		for _, v := range c {
			out = binary.BigEndian.AppendUint64(out, v)
		}
	}
	out = binary.BigEndian.AppendUint32(out, uint32(commitments))
	for range 2 * commitments {
		out = append(out, b[:]...)
	}
	return out
}

func TestVerifyingKeyLayout(t *testing.T) {
	if err := VerifyingKey(vk(3, [][]uint64{{1, 2}}, 1)); err != nil {
		t.Fatalf("well-formed layout refused: %v", err)
	}
	// The key that crashed verify bundle: 288 bytes of points, then a count of 0xCB000000.
	crash := binary.BigEndian.AppendUint32(header(), 0xCB000000)
	if len(crash) != 292 {
		t.Fatal(len(crash))
	}
	for name, b := range map[string][]byte{
		"292-byte key":          crash,
		"committed count":       append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(header(), 0), 0xFFFFFFFF), make([]byte, 16)...),
		"inner committed count": append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(header(), 0), 1), 0xFFFFFF), make([]byte, 16)...),
		"commitment count":      binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(header(), 0), 0), 0xFFFFFFFF),
		"truncated":             header()[:100],
		"uncompressed point":    append([]byte{0}, header()[1:]...),
	} {
		if err := VerifyingKey(b); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name != "truncated" && name != "uncompressed point" && !strings.Contains(err.Error(), "length prefix") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestProofLayout(t *testing.T) {
	_, _, g1, g2 := bn254.Generators()
	a, b := g1.Bytes(), g2.Bytes()
	p := bytes.Join([][]byte{a[:], b[:], a[:], {0, 0, 0, 1}, a[:], a[:]}, nil)
	if err := Proof(p); err != nil {
		t.Fatalf("well-formed layout refused: %v", err)
	}
	bad := bytes.Join([][]byte{a[:], b[:], a[:], {0xFF, 0xFF, 0xFF, 0xFF}, a[:]}, nil)
	if err := Proof(bad); err == nil || !strings.Contains(err.Error(), "length prefix") {
		t.Fatalf("commitment count of 2^32-1: %v", err)
	}
}
