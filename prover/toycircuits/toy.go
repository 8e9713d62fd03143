// Package toycircuits holds two small circuits shaped like the real ones, for testing setup, the
// ceremony and key handling before (and independently of) the real circuits: "toybatch" sums
// B*A range-checked balances (so, like the real batch circuit, it carries a BSB22 commitment from
// std/rangecheck) and "toysolvency" is commitment-free, like the on-chain solvency circuit.
// They prove nothing about solvency; they exist only for tests (of this module: it is not
// internal so that the CLI's tests can use it too).
package toycircuits

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/rangecheck"

	"github.com/solvency-dev/solvency/prover/profile"
)

// Batch sums range-checked balances into a public total.
type Batch struct {
	Total    frontend.Variable `gnark:",public"`
	Balances []frontend.Variable
}

// Define asserts every balance fits 64 bits and that they sum to Total.
func (c *Batch) Define(api frontend.API) error {
	rc := rangecheck.New(api)
	sum := frontend.Variable(0)
	for _, b := range c.Balances {
		rc.Check(b, 64)
		sum = api.Add(sum, b)
	}
	api.AssertIsEqual(sum, c.Total)
	return nil
}

// Solvency checks x³ + x + 5 = Y for each position slot.
type Solvency struct {
	Y []frontend.Variable `gnark:",public"`
	X []frontend.Variable
}

// Define asserts the cubic for every slot.
func (c *Solvency) Define(api frontend.API) error {
	if len(c.X) != len(c.Y) {
		return fmt.Errorf("toy solvency: %d secrets for %d publics", len(c.X), len(c.Y))
	}
	for i := range c.X {
		x3 := api.Mul(c.X[i], c.X[i], c.X[i])
		api.AssertIsEqual(c.Y[i], api.Add(x3, c.X[i], 5))
	}
	return nil
}

// Specs returns the two toy circuit specs.
func Specs() []profile.CircuitSpec {
	return []profile.CircuitSpec{
		{Name: "toybatch", Version: "1", New: func(p profile.Profile) (frontend.Circuit, error) {
			return &Batch{Balances: make([]frontend.Variable, p.BatchSize()*p.Assets)}, nil
		}},
		{Name: "toysolvency", Version: "1", New: func(p profile.Profile) (frontend.Circuit, error) {
			return &Solvency{Y: make([]frontend.Variable, p.Positions), X: make([]frontend.Variable, p.Positions)}, nil
		}},
	}
}

// Assignment returns a valid full assignment of the named toy circuit for p.
func Assignment(name string, p profile.Profile) (frontend.Circuit, error) {
	switch name {
	case "toybatch":
		n := p.BatchSize() * p.Assets
		c := &Batch{Balances: make([]frontend.Variable, n)}
		total := new(big.Int)
		for i := range c.Balances {
			v := big.NewInt(int64(1000 + i))
			c.Balances[i] = v
			total.Add(total, v)
		}
		c.Total = total
		return c, nil
	case "toysolvency":
		c := &Solvency{Y: make([]frontend.Variable, p.Positions), X: make([]frontend.Variable, p.Positions)}
		for i := range c.X {
			x := int64(i + 2)
			c.X[i] = x
			c.Y[i] = x*x*x + x + 5
		}
		return c, nil
	default:
		return nil, fmt.Errorf("no toy circuit %q", name)
	}
}
