package solvency

import (
	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
)

// Compile compiles the circuit for shape s to a BN254 R1CS (Groth16).
func Compile(s Shape) (constraint.ConstraintSystem, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, NewCircuit(s))
}

// Info compiles the circuit at shape s and reports its R1CS constraint count and its number of
// public inputs (for `solvency circuits info`).
func Info(s Shape) (constraints int, publicInputs int, err error) {
	ccs, err := Compile(s)
	if err != nil {
		return 0, 0, err
	}
	return ccs.GetNbConstraints(), ccs.GetNbPublicVariables() - 1, nil
}
