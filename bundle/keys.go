package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"

	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/groth16bounds"
)

// Circuit names, as keys and pins call them.
const (
	BatchCircuit    = "batch"
	SolvencyCircuit = "solvency"
)

// Pins maps circuit name to the sha256 of its canonical verifying key, taken from outside the
// bundle: a ceremony transcript the auditor re-verified, or a published digests file (V1).
type Pins map[string]string

// ReadPinnedVK reads the verifying key at dir/rel for circuit and parses it only after its
// digest equals both its pin and the digest the manifest names.
func ReadPinnedVK(dir, rel, circuit string, pins Pins, manifestDigest string) (groth16.VerifyingKey, error) {
	want, ok := pins[circuit]
	if !ok {
		return nil, fmt.Errorf("no pinned digest for the %s circuit", circuit)
	}
	data, err := boundedfile.ReadFile(filepath.Join(dir, rel), boundedfile.VerifyingKey)
	if err != nil {
		return nil, err
	}
	// Compare the digest with the pin before parsing: a key that is not the pinned one is
	// refused without ever reaching the parser.
	digest := SHA256Hex(data)
	if digest != want {
		return nil, fmt.Errorf("%s has digest %s, but the pinned key is %s", rel, digest, want)
	}
	if digest != manifestDigest {
		return nil, fmt.Errorf("%s has digest %s, but the manifest says %s", rel, digest, manifestDigest)
	}
	vk, _, err := ParseVerifyingKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return vk, nil
}

// ParseVerifyingKey parses a verifying key from an untrusted source with gnark's checked reader,
// requiring the whole input consumed and a canonical encoding (V3), and returns its digest.
func ParseVerifyingKey(data []byte) (groth16.VerifyingKey, string, error) {
	if err := groth16bounds.VerifyingKey(data); err != nil {
		return nil, "", fmt.Errorf("read verifying key: %w", err)
	}
	vk := groth16.NewVerifyingKey(ecc.BN254)
	n, err := vk.ReadFrom(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("read verifying key: %w", err)
	}
	if n != int64(len(data)) {
		return nil, "", fmt.Errorf("verifying key has %d trailing bytes", int64(len(data))-n)
	}
	var buf bytes.Buffer
	if _, err := vk.WriteTo(&buf); err != nil {
		return nil, "", fmt.Errorf("re-encode verifying key: %w", err)
	}
	if !bytes.Equal(buf.Bytes(), data) {
		return nil, "", errors.New("verifying key is not canonically encoded")
	}
	return vk, SHA256Hex(data), nil
}

// ParseProof parses a Groth16 proof with the checked reader, whole input, canonical (V3).
func ParseProof(data []byte) (groth16.Proof, error) {
	if err := groth16bounds.Proof(data); err != nil {
		return nil, fmt.Errorf("read proof: %w", err)
	}
	p := groth16.NewProof(ecc.BN254)
	n, err := p.ReadFrom(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read proof: %w", err)
	}
	if n != int64(len(data)) {
		return nil, fmt.Errorf("proof has %d trailing bytes", int64(len(data))-n)
	}
	var buf bytes.Buffer
	if _, err := p.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("re-encode proof: %w", err)
	}
	if !bytes.Equal(buf.Bytes(), data) {
		return nil, errors.New("proof is not canonically encoded")
	}
	return p, nil
}

// PublicWitness builds a public-only witness from field elements, in the circuit's order of
// public inputs.
func PublicWitness(public []fr.Element) (witness.Witness, error) {
	w, err := witness.New(ecc.BN254.ScalarField())
	if err != nil {
		return nil, err
	}
	ch := make(chan any, len(public))
	for _, v := range public {
		ch <- v
	}
	close(ch)
	if err := w.Fill(len(public), 0, ch); err != nil {
		return nil, fmt.Errorf("public witness: %w", err)
	}
	return w, nil
}
