package verifier_test

import (
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/verifier"
)

// The report's trust fields: a warning unless the setup was re-verified, and a re-verified setup
// needs a contribution in every phase (V7) and keys for the bundle's profile.
func TestV7_ReportTrustFields(t *testing.T) {
	rep, err := verifier.VerifyBundle(fx.Bundle, fx.Pins, verifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.TrustVerified || rep.Warning != verifier.UnverifiedSetupWarning || rep.Contributions != nil {
		t.Fatalf("unverified pins: %+v", rep)
	}

	counts := map[string]int{"phase1": 2, "batch": 1, "solvency": 0}
	rep, err = verifier.VerifyBundle(fx.Bundle, fx.Pins, verifier.Options{Trust: "ceremony: test", TrustVerified: true, Contributions: counts})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Failed(); rep.Valid || f == nil || !strings.Contains(f.Detail, "solvency") {
		t.Fatalf("a ceremony with an empty phase was accepted as verified: %+v", rep.Failed())
	}
	counts["solvency"] = 1
	rep, err = verifier.VerifyBundle(fx.Bundle, fx.Pins, verifier.Options{Trust: "ceremony: test", TrustVerified: true, Contributions: counts})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.Warning != "" || rep.Contributions["phase1"] != 2 {
		t.Fatalf("verified pins: %+v", rep)
	}

	rep, err = verifier.VerifyBundle(fx.Bundle, fx.Pins, verifier.Options{KeysProfile: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Failed(); rep.Valid || f == nil || !strings.Contains(f.Detail, `profile "demo"`) {
		t.Fatalf("keys for another profile accepted: %+v", rep.Failed())
	}
}
