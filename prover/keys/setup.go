package keys

import (
	"fmt"
	"time"

	"github.com/consensys/gnark/backend/groth16"

	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/profile"
)

// DevSetup runs a single-party groth16.Setup for every compiled circuit. The keys it returns are
// for development only: the caller must say so (DevWarning) and record TrustDev, which Save and
// every later output carry.
func DevSetup(compiled []*circuitcache.Compiled, progress func(format string, args ...any)) ([]*Circuit, error) {
	if progress == nil {
		progress = func(string, ...any) {}
	}
	var out []*Circuit
	for _, cc := range compiled {
		start := time.Now()
		progress("setup %s: %d constraints", cc.Name, cc.CCS.GetNbConstraints())
		pk, vk, err := groth16.Setup(cc.CCS)
		if err != nil {
			return nil, fmt.Errorf("setup %s: %w", cc.Name, err)
		}
		c, err := NewCircuit(cc, pk, vk)
		if err != nil {
			return nil, fmt.Errorf("setup %s: %w", cc.Name, err)
		}
		progress("setup %s: done in %s", cc.Name, time.Since(start).Round(time.Millisecond))
		out = append(out, c)
	}
	return out, nil
}

// DevMetadata is the metadata of dev keys for p.
func DevMetadata(p profile.Profile) *Metadata {
	return &Metadata{Profile: p, Trust: TrustDev, Warning: DevWarning}
}
