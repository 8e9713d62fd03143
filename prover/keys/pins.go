package keys

import (
	"errors"
	"fmt"
	"sort"

	"github.com/consensys/gnark/backend/groth16"

	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// Pins are verifying-key digests an auditor takes from outside a bundle (V1): from a ceremony
// transcript they re-verified (ceremony.Result.Pins) or from a published digests file. A bundle's
// keys are acceptable only if every circuit's key digest equals its pin.
type Pins struct {
	// TranscriptDigest, when set, is the ceremony transcript the pins were derived from.
	TranscriptDigest string `json:"transcript_digest,omitempty"`
	// VerifyingKeys maps circuit name to the hex sha256 of its canonical verifying key.
	VerifyingKeys map[string]string `json:"verifying_keys"`
}

// ReadPins reads a digests file: JSON {"transcript_digest": "...", "verifying_keys": {"batch":
// "<hex>", ...}}, as a regular file within the pins size limit, strictly: unknown, duplicate and
// case-variant keys are refused so a typo or a second entry cannot silently change a pin.
func ReadPins(path string) (*Pins, error) {
	b, err := boundedfile.ReadFile(path, boundedfile.Pins)
	if err != nil {
		return nil, fmt.Errorf("key pins: %w", err)
	}
	var p Pins
	if err := jsonstrict.Unmarshal(path, b, &p); err != nil {
		return nil, fmt.Errorf("key pins: %w", err)
	}
	if len(p.VerifyingKeys) == 0 {
		return nil, fmt.Errorf("key pins %s pin no verifying key", path)
	}
	for name, d := range p.VerifyingKeys {
		if len(d) != 64 {
			return nil, fmt.Errorf("key pins %s: digest for %s is not 64 hex digits", path, name)
		}
	}
	return &p, nil
}

// CheckDigest checks that the circuit's verifying key digest equals its pin.
func (p *Pins) CheckDigest(circuit, digest string) error {
	want, ok := p.VerifyingKeys[circuit]
	if !ok {
		return fmt.Errorf("no pinned verifying key for circuit %q", circuit)
	}
	if digest != want {
		return fmt.Errorf("verifying key for %s has digest %s, but the pinned key is %s: the key was not derived from the pinned setup", circuit, digest, want)
	}
	return nil
}

// CheckVK checks vk against the circuit's pin.
func (p *Pins) CheckVK(circuit string, vk groth16.VerifyingKey) error {
	d, err := VKDigest(vk)
	if err != nil {
		return err
	}
	return p.CheckDigest(circuit, d)
}

// CheckKeys checks every verifying key in k against the pins, and that the pins and the keys
// name the same circuits, so that no circuit escapes pinning (both circuits must be pinned, V1).
func (p *Pins) CheckKeys(k *Keys) error {
	if len(k.Circuits) != len(p.VerifyingKeys) {
		return fmt.Errorf("keys have %d circuits, pins have %d", len(k.Circuits), len(p.VerifyingKeys))
	}
	names := make([]string, 0, len(k.Circuits))
	for n := range k.Circuits {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		if err := p.CheckVK(n, k.Circuits[n].VK); err != nil {
			errs = append(errs, err)
		}
	}
	if p.TranscriptDigest != "" {
		if k.Meta.Ceremony == nil || k.Meta.Ceremony.TranscriptDigest != p.TranscriptDigest {
			errs = append(errs, fmt.Errorf("keys do not name the pinned transcript %s", p.TranscriptDigest))
		}
	}
	return errors.Join(errs...)
}

// PinsOf returns the pins that k's own metadata claims. Useful to publish after a setup; useless
// as evidence, since it trusts the directory it reads.
func PinsOf(k *Keys) *Pins {
	p := &Pins{VerifyingKeys: map[string]string{}}
	if k.Meta.Ceremony != nil {
		p.TranscriptDigest = k.Meta.Ceremony.TranscriptDigest
	}
	for n, c := range k.Circuits {
		p.VerifyingKeys[n] = c.Info.VKDigest
	}
	return p
}
