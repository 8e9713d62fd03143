package contracts

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/consensys/gnark/backend/groth16"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/backend/solidity"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/internal/boundedfile"
)

// SolcVersion is the Solidity version the generated verifier is pinned to; it is the version
// package-lock.json installs.
const SolcVersion = "0.8.37"

// VerifierContractName is the name gnark gives the generated contract.
const VerifierContractName = "Verifier"

// ProofLength is the size of a proof in the layout the verifier takes (A, B, C uncompressed).
const ProofLength = 256

// checkVerifyingKey refuses keys the registry cannot use: another curve, a key with a BSB22
// commitment (S8: the registry passes exactly 256 proof bytes and no commitment), or a public
// input count that does not match numAssets.
func checkVerifyingKey(vk groth16.VerifyingKey, numAssets int) (*groth16bn254.VerifyingKey, error) {
	bvk, ok := vk.(*groth16bn254.VerifyingKey)
	if !ok {
		return nil, fmt.Errorf("verifying key is %T; the registry needs a BN254 Groth16 key", vk)
	}
	if n := len(bvk.PublicAndCommitmentCommitted); n != 0 {
		return nil, fmt.Errorf("verifying key has %d commitment(s); the on-chain circuit must have none (S8)", n)
	}
	want, err := NumPublicInputs(numAssets)
	if err != nil {
		return nil, err
	}
	if got := bvk.NbPublicWitness(); got != want {
		return nil, fmt.Errorf("verifying key has %d public inputs; %d assets need %d (4 + ceil(A/4))", got, numAssets, want)
	}
	return bvk, nil
}

// ExportVerifier writes gnark's Solidity verifier for vk, a verifying key of the solvency circuit
// over numAssets assets, pinned to SolcVersion.
func ExportVerifier(w io.Writer, vk groth16.VerifyingKey, numAssets int) error {
	bvk, err := checkVerifyingKey(vk, numAssets)
	if err != nil {
		return err
	}
	// The hash-to-field function only matters for commitments, which the key has none of; naming
	// gnark's default (legacy keccak256) explicitly keeps the export quiet and pinned.
	opts := []solidity.ExportOption{solidity.WithPragmaVersion(SolcVersion), solidity.WithHashToFieldFunction(crypto.NewKeccakState())}
	if err := bvk.ExportSolidity(w, opts...); err != nil {
		return fmt.Errorf("export Solidity verifier: %w", err)
	}
	return nil
}

// VerifierSource returns the Solidity source ExportVerifier writes.
func VerifierSource(vk groth16.VerifyingKey, numAssets int) (string, error) {
	var buf bytes.Buffer
	if err := ExportVerifier(&buf, vk, numAssets); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// CompileVerifier exports and compiles the verifier for vk with the pinned solc. The result's
// runtime bytecode is what an auditor compares with the code at the registry's verifier (V2).
func CompileVerifier(ctx context.Context, vk groth16.VerifyingKey, numAssets int) (source string, art *Artifact, err error) {
	source, err = VerifierSource(vk, numAssets)
	if err != nil {
		return "", nil, err
	}
	arts, err := Compile(ctx, map[string]string{"Verifier.sol": source})
	if err != nil {
		return "", nil, fmt.Errorf("verifier: %w", err)
	}
	art, ok := arts[VerifierContractName]
	if !ok {
		return "", nil, fmt.Errorf("verifier: the compiler produced no %s contract", VerifierContractName)
	}
	return source, art, nil
}

// SolidityProof serialises a Groth16 proof in the 256-byte layout the verifier's verifyProof
// takes. Prove with solidity.WithProverTargetSolidityVerifier(backend.GROTH16) for on-chain use.
func SolidityProof(p groth16.Proof) ([]byte, error) {
	bp, ok := p.(*groth16bn254.Proof)
	if !ok {
		return nil, fmt.Errorf("proof is %T; the registry needs a BN254 Groth16 proof", p)
	}
	if len(bp.Commitments) != 0 {
		return nil, fmt.Errorf("proof carries %d commitment(s); the on-chain circuit must have none (S8)", len(bp.Commitments))
	}
	var buf bytes.Buffer
	// WriteRawTo starts with A, B, C uncompressed (256 bytes), then the commitment count and
	// the commitments; without commitments the first 256 bytes are exactly MarshalSolidity's
	// output, and unlike MarshalSolidity this path returns errors instead of panicking.
	if _, err := bp.WriteRawTo(&buf); err != nil {
		return nil, fmt.Errorf("serialise proof: %w", err)
	}
	if buf.Len() < ProofLength {
		return nil, fmt.Errorf("serialise proof: %d bytes, want at least %d", buf.Len(), ProofLength)
	}
	return buf.Bytes()[:ProofLength], nil
}

// ReadVerifyingKey reads a BN254 Groth16 verifying key written by gnark's WriteTo (as a keys
// directory's solvency.vk) the way V3 asks: gnark's checked reader (points on the curve and in
// the subgroup), the whole file consumed, and the encoding canonical (re-encoding gives the same
// bytes), so one key has exactly one accepted file.
func ReadVerifyingKey(path string) (groth16.VerifyingKey, error) {
	data, err := boundedfile.ReadFile(path, boundedfile.VerifyingKey)
	if err != nil {
		return nil, err
	}
	vk, _, err := bundle.ParseVerifyingKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vk, nil
}
