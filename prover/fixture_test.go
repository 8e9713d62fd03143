package prover_test

import (
	"testing"

	"github.com/solvency-dev/solvency/internal/cyclefixture"
)

// fx is the proven cycle every test in this package reads (made once, by TestMain).
var fx *cyclefixture.Fixture

const fixtureUsers = cyclefixture.Users

func TestMain(m *testing.M) { cyclefixture.Main(m, "prover-test-", &fx) }

func copyDir(t testing.TB, src, dst string) { cyclefixture.CopyDir(t, src, dst) }
