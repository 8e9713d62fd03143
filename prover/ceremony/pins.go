package ceremony

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
)

// Trust labels of a PinSource. Only a transcript re-verified here against circuits compiled from
// source earns TrustCeremony (V7); everything else is reported as what it is, with a warning.
const (
	// LabelPinnedNotVerified starts the label of a digests file that names a transcript: the file
	// says where the digests came from, but the transcript itself was not checked.
	LabelPinnedNotVerified = "pinned, not re-verified"
	// LabelPinnedDigests is a digests file that names no transcript.
	LabelPinnedDigests = "pinned digests, setup not verified"
	// LabelDev starts the label of keys whose own directory says they are dev keys.
	LabelDev = "DEV KEYS (single-party setup)"
)

// PinSource is what an auditor's pins establish about a bundle's verifying keys.
type PinSource struct {
	// VerifyingKeys maps circuit name to the sha256 of its canonical verifying key.
	VerifyingKeys map[string]string
	// Trust is the label every report prints. It starts with "ceremony" only when Verified.
	Trust string
	// Verified is set only when the ceremony transcript was re-verified here, against both
	// circuits compiled from source, with a contribution in every phase.
	Verified bool
	// TranscriptDigest is the transcript the pins come from (verified or only named).
	TranscriptDigest string
	// Profile is the profile the pins were derived for (verified), or that a keys directory
	// claims; empty for a digests file.
	Profile string
	// Contributions counts each phase's contributions: "phase1" and one entry per circuit.
	// Set when Verified, or as a keys directory claims them.
	Contributions map[string]int
	// Warning is set unless Verified: the keys' setup was not shown sound here.
	Warning string
}

// PinOptions tune LoadPins.
type PinOptions struct {
	// Profile is the built-in profile the bundle names; a ceremony must be for it. Empty means
	// the profile the ceremony names, which must then be a built-in profile.
	Profile string
	// Specs are the circuits to compile from source; nil means profile.Circuits(), both of the
	// cycle's circuits.
	Specs []profile.CircuitSpec
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
}

// LoadPins reads pinned verifying-key digests from path, strongest source first:
//   - a ceremony directory (it holds ceremony.json): both circuits are compiled here from source
//     for the profile, the transcript is re-verified against them (every contribution, at least
//     one per phase) and the keys it derives are pinned: trust "ceremony";
//   - a keys directory (keys.json): its digests, and its trust label only as a claim;
//   - a digests file: {"transcript_digest": "...", "verifying_keys": {...}}: "pinned, not
//     re-verified" when it names a transcript, since naming one proves nothing about it.
func LoadPins(path string, o PinOptions) (*PinSource, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return pinsFromFile(path)
	}
	if _, err := os.Stat(filepath.Join(path, manifestFile)); err == nil {
		return pinsFromCeremony(path, o)
	}
	return pinsFromKeysDir(path)
}

func pinsFromCeremony(dir string, o PinOptions) (*PinSource, error) {
	progress := Progress(nil)
	if o.Progress != nil {
		progress = func(format string, args ...any) { fmt.Fprintf(o.Progress, format+"\n", args...) }
	}
	s, err := Open(dir)
	if err != nil {
		return nil, fmt.Errorf("ceremony transcript: %w", err)
	}
	name := o.Profile
	if name == "" {
		name = s.Manifest.Profile.Name
	}
	specs := o.Specs
	if specs == nil {
		specs = profile.Circuits()
	}
	progress.printf("compiling the %s profile's circuits from source", name)
	src, err := CompileSource(name, specs, progress)
	if err != nil {
		return nil, fmt.Errorf("compile the circuits from source: %w", err)
	}
	progress.printf("re-verifying the ceremony transcript in %s (every contribution; this takes a while)", dir)
	res, err := Verify(dir, Options{Source: src, Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("ceremony transcript: %w", err)
	}
	p, err := res.Pins()
	if err != nil {
		return nil, fmt.Errorf("ceremony transcript: %w", err)
	}
	counts := res.Contributions()
	return &PinSource{
		VerifyingKeys: p.VerifyingKeys, Verified: true, TranscriptDigest: p.TranscriptDigest,
		Profile: src.Profile.Name, Contributions: counts,
		Trust: fmt.Sprintf("%s: transcript %s re-verified here against the circuits compiled from source for profile %s (contributions: %s)",
			keys.TrustCeremony, p.TranscriptDigest, src.Profile.Name, keys.FormatContributions(counts)),
	}, nil
}

func pinsFromKeysDir(dir string) (*PinSource, error) {
	meta, err := keys.ReadMetadata(dir)
	if err != nil {
		return nil, err
	}
	ps := &PinSource{VerifyingKeys: map[string]string{}, Profile: meta.Profile.Name, Warning: keys.UnverifiedWarning}
	for _, c := range meta.Circuits {
		ps.VerifyingKeys[c.Name] = c.VKDigest
	}
	switch {
	case meta.Trust == keys.TrustCeremony && meta.Ceremony != nil:
		ps.TranscriptDigest, ps.Contributions = meta.Ceremony.TranscriptDigest, meta.Ceremony.Contributions
		ps.Trust = fmt.Sprintf("not re-verified: the keys directory claims a ceremony, transcript %s (contributions: %s)",
			meta.Ceremony.TranscriptDigest, keys.FormatContributions(meta.Ceremony.Contributions))
	case meta.Trust == keys.TrustDev:
		ps.Trust, ps.Warning = LabelDev+", as the keys directory says", keys.DevWarning
	default:
		ps.Trust = fmt.Sprintf("not re-verified: the keys directory says %q", meta.Trust)
	}
	return ps, nil
}

func pinsFromFile(path string) (*PinSource, error) {
	p, err := keys.ReadPins(path)
	if err != nil {
		return nil, err
	}
	ps := &PinSource{VerifyingKeys: p.VerifyingKeys, Trust: LabelPinnedDigests, Warning: keys.UnverifiedWarning}
	if p.TranscriptDigest != "" {
		// The file only names a transcript; the keys may as well be anyone's dev keys (V7).
		ps.TranscriptDigest = p.TranscriptDigest
		ps.Trust = fmt.Sprintf("%s: %s names transcript %s, which was not checked here", LabelPinnedNotVerified, path, p.TranscriptDigest)
	}
	return ps, nil
}
