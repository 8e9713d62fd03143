package batch

import "testing"

// TestConstraintBudget holds the circuit to the budget: at most 600 R1CS per account at
// 8 assets, measured as the marginal cost between B = 8 and B = 64.
func TestConstraintBudget(t *testing.T) {
	n1, err := Constraints(Shape{Height: 1, Assets: 8})
	if err != nil {
		t.Fatal(err)
	}
	n2, err := Constraints(Shape{Height: 2, Assets: 8})
	if err != nil {
		t.Fatal(err)
	}
	marginal := float64(n2-n1) / 56
	t.Logf("A=8: B=8 %d R1CS, B=64 %d R1CS (%.1f per account), marginal %.1f per account", n1, n2, float64(n2)/64, marginal)
	if marginal > 600 {
		t.Fatalf("marginal cost %.1f R1CS per account is over the 600 budget", marginal)
	}
}
