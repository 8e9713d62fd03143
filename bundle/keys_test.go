package bundle_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"

	"github.com/solvency-dev/solvency/bundle"
)

// square proves knowledge of a square root of a public Y: the smallest circuit with a public
// input, enough to exercise the readers on real keys and proofs.
type square struct {
	Y frontend.Variable `gnark:",public"`
	X frontend.Variable
}

func (c *square) Define(api frontend.API) error {
	api.AssertIsEqual(api.Mul(c.X, c.X), c.Y)
	return nil
}

// toyKeyAndProof returns a canonical verifying key and a proof of 3² = 9, both serialised.
func toyKeyAndProof(t *testing.T) (vkBytes, proofBytes []byte) {
	t.Helper()
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, &square{})
	if err != nil {
		t.Fatal(err)
	}
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	w, err := frontend.NewWitness(&square{Y: 9, X: 3}, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	proof, err := groth16.Prove(ccs, pk, w)
	if err != nil {
		t.Fatal(err)
	}
	var vb, pb bytes.Buffer
	if _, err := vk.WriteTo(&vb); err != nil {
		t.Fatal(err)
	}
	if _, err := proof.WriteTo(&pb); err != nil {
		t.Fatal(err)
	}
	return vb.Bytes(), pb.Bytes()
}

// V3: the readers take the whole input in its one canonical encoding; a trailing byte or a cut
// is refused, and what they accept verifies with PublicWitness's public inputs.
func TestV3_ParseKeyAndProofWholeInputOnly(t *testing.T) {
	vkb, pb := toyKeyAndProof(t)
	vk, digest, err := bundle.ParseVerifyingKey(vkb)
	if err != nil || digest != bundle.SHA256Hex(vkb) {
		t.Fatalf("ParseVerifyingKey: digest %s, %v", digest, err)
	}
	proof, err := bundle.ParseProof(pb)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := bundle.PublicWitness([]fr.Element{fr.NewElement(9)})
	if err != nil {
		t.Fatal(err)
	}
	if err := groth16.Verify(proof, vk, pub); err != nil {
		t.Fatalf("the parsed proof does not verify: %v", err)
	}
	wrong, err := bundle.PublicWitness([]fr.Element{fr.NewElement(10)})
	if err != nil {
		t.Fatal(err)
	}
	if groth16.Verify(proof, vk, wrong) == nil {
		t.Fatal("the proof verifies against another public input")
	}
	for name, b := range map[string][]byte{"trailing byte": append(bytes.Clone(vkb), 0), "cut": vkb[:len(vkb)-1]} {
		if _, _, err := bundle.ParseVerifyingKey(b); err == nil {
			t.Errorf("verifying key with a %s accepted", name)
		}
	}
	for name, b := range map[string][]byte{"trailing byte": append(bytes.Clone(pb), 0), "cut": pb[:len(pb)-1]} {
		if _, err := bundle.ParseProof(b); err == nil {
			t.Errorf("proof with a %s accepted", name)
		}
	}
}

// V1: a key file is compared with its pin and with the manifest's digest before it is parsed, so
// a key that is not the pinned one never reaches the parser; a circuit without a pin is refused.
func TestV1_ReadPinnedVKDigestBeforeParse(t *testing.T) {
	vkb, _ := toyKeyAndProof(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, bundle.KeysDir), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, bundle.BatchVKFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good := bundle.SHA256Hex(vkb)
	write(vkb)
	if _, err := bundle.ReadPinnedVK(dir, bundle.BatchVKFile, bundle.BatchCircuit, bundle.Pins{bundle.BatchCircuit: good}, good); err != nil {
		t.Fatalf("the pinned key: %v", err)
	}
	if _, err := bundle.ReadPinnedVK(dir, bundle.BatchVKFile, bundle.BatchCircuit, bundle.Pins{bundle.SolvencyCircuit: good}, good); err == nil ||
		!strings.Contains(err.Error(), "no pinned digest") {
		t.Errorf("no pin for the circuit: %v", err)
	}
	if _, err := bundle.ReadPinnedVK(dir, bundle.BatchVKFile, bundle.BatchCircuit, bundle.Pins{bundle.BatchCircuit: good}, strings.Repeat("0", 64)); err == nil ||
		!strings.Contains(err.Error(), "the manifest says") {
		t.Errorf("manifest digest differs: %v", err)
	}
	// Garbage that would fail to parse is refused by its digest, not by the parser.
	write([]byte("not a key"))
	if _, err := bundle.ReadPinnedVK(dir, bundle.BatchVKFile, bundle.BatchCircuit, bundle.Pins{bundle.BatchCircuit: good}, good); err == nil ||
		!strings.Contains(err.Error(), "but the pinned key is") {
		t.Errorf("unpinned garbage: %v", err)
	}
}
