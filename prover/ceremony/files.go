package ceremony

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
)

// Sizes of gnark's compressed encodings, used to check a contribution's layout before the
// decoder allocates anything: gnark's readers allocate slices of whatever length the input
// announces, so an unchecked file of a few bytes could ask for hundreds of gigabytes.
const (
	g1Size          = 32
	g2Size          = 64
	updateProofSize = g1Size + g2Size // contribution commitment (G1) + proof of knowledge (G2)
	challengeSize   = 32              // sha256 of the previous contribution

	// MaxPhase1Size bounds N for a contribution read without a manifest (ContributeFile): 2^27
	// covers circuits of 134M constraints, far beyond what this project proves.
	MaxPhase1Size = 1 << 27
)

// phase1Size is the exact length of a phase-1 contribution of domain size n, compressed, with a
// 32-byte challenge (Contribute always sets one; a starting point has none).
func phase1Size(n uint64) uint64 {
	return 3*updateProofSize + // τ, α, β update proofs
		8 + g2Size + // N, [β]₂
		(2*n-2)*g1Size + (n-1)*g2Size + // [τⁱ]₁ for 1 ≤ i ≤ 2N-2, [τⁱ]₂ for 1 ≤ i ≤ N-1
		2*n*g1Size + // [ατⁱ]₁, [βτⁱ]₁
		1 + challengeSize
}

// checkPhase1Layout checks data's announced size before parsing. want is the manifest's N, or 0
// to accept any power of two up to MaxPhase1Size.
func checkPhase1Layout(data []byte, want uint64) (uint64, error) {
	if len(data) < 3*updateProofSize+8 {
		return 0, errors.New("phase-1 contribution is truncated")
	}
	n := binary.BigEndian.Uint64(data[3*updateProofSize:])
	if want != 0 && n != want {
		return 0, fmt.Errorf("phase-1 contribution has domain size %d, the ceremony uses %d", n, want)
	}
	if n < 2 || n > MaxPhase1Size || bits.OnesCount64(n) != 1 {
		return 0, fmt.Errorf("phase-1 contribution has invalid domain size %d", n)
	}
	// A starting point (0000) has no challenge yet; a contribution carries 32 bytes.
	if l := uint64(len(data)); l != phase1Size(n) && l != phase1Size(n)-challengeSize {
		return 0, fmt.Errorf("phase-1 contribution is %d bytes, a compressed contribution of domain size %d is %d", len(data), n, phase1Size(n))
	}
	return n, nil
}

// checkPhase2Layout walks the announced slice lengths of a phase-2 contribution (layout of
// mpcsetup.Phase2.WriteTo) and checks that each fits in what remains and that the whole file is
// consumed, with a 32-byte challenge.
func checkPhase2Layout(data []byte) error {
	r := data
	take := func(n uint64) error {
		if n > uint64(len(r)) {
			return errors.New("phase-2 contribution is truncated or announces more data than it holds")
		}
		r = r[n:]
		return nil
	}
	slice := func() error {
		if len(r) < 4 {
			return errors.New("phase-2 contribution is truncated")
		}
		n := uint64(binary.BigEndian.Uint32(r))
		r = r[4:]
		return take(n * g1Size)
	}
	if len(r) < 2 {
		return errors.New("phase-2 contribution is truncated")
	}
	nbCommitments := uint64(binary.BigEndian.Uint16(r))
	r = r[2:]
	if err := take(g1Size); err != nil { // [δ]₁
		return err
	}
	if err := slice(); err != nil { // PKK
		return err
	}
	if err := slice(); err != nil { // Z
		return err
	}
	if err := take(g2Size); err != nil { // [δ]₂
		return err
	}
	for i := uint64(0); i < nbCommitments; i++ {
		if err := slice(); err != nil { // σᵢCᵢ
			return err
		}
	}
	if err := take(nbCommitments*g2Size + updateProofSize + nbCommitments*updateProofSize); err != nil {
		return err
	}
	// A starting point (0000) has no challenge yet; a contribution carries 32 bytes.
	if !(len(r) == 1+challengeSize && r[0] == challengeSize) && !(len(r) == 1 && r[0] == 0) {
		return errors.New("phase-2 contribution does not end with a 32-byte challenge")
	}
	return nil
}

// parsePhase1 checks the layout and parses a phase-1 contribution (points are checked to be on
// the curve and in the subgroup by gnark's decoder).
func parsePhase1(data []byte, want uint64) (*mpcsetup.Phase1, error) {
	if _, err := checkPhase1Layout(data, want); err != nil {
		return nil, err
	}
	p := new(mpcsetup.Phase1)
	n, err := p.ReadFrom(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse phase-1 contribution: %w", err)
	}
	if n != int64(len(data)) {
		return nil, fmt.Errorf("phase-1 contribution: %d bytes left unread", int64(len(data))-n)
	}
	return p, nil
}

func parsePhase2(data []byte) (*mpcsetup.Phase2, error) {
	if err := checkPhase2Layout(data); err != nil {
		return nil, err
	}
	p := new(mpcsetup.Phase2)
	n, err := p.ReadFrom(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse phase-2 contribution: %w", err)
	}
	if n != int64(len(data)) {
		return nil, fmt.Errorf("phase-2 contribution: %d bytes left unread", int64(len(data))-n)
	}
	return p, nil
}

// encode serializes v (a contribution) into memory.
func encode(v io.WriterTo) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := v.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("serialize contribution: %w", err)
	}
	return buf.Bytes(), nil
}
