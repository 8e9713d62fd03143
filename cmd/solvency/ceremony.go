package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/prover/ceremony"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
)

func newCeremonyCmd() *cobra.Command {
	return newCeremonyCmdWith(profile.Circuits)
}

func newCeremonyCmdWith(circuits func() []profile.CircuitSpec) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ceremony",
		Short: "Multi-party trusted setup (Groth16 MPC) for every circuit of a profile",
		Long: `ceremony runs a multi-party Groth16 setup with gnark's MPC: one shared phase 1 (powers of
tau), then a phase 2 per circuit. The keys are sound if at least one contributor of each phase was
honest and destroyed their randomness. Both circuits of a cycle go through it.

  1. coordinator:   solvency ceremony init --profile P --out DIR
  2. participants:  solvency ceremony contribute --dir DIR          (each in turn; or --in/--out)
  3. coordinator:   solvency ceremony start-phase2 --dir DIR --beacon HEX
  4. participants:  solvency ceremony contribute --dir DIR          (each in turn)
  5. coordinator:   solvency ceremony finalize --dir DIR --beacon HEX --out KEYS
  anyone, anytime:  solvency ceremony verify --dir DIR [--keys KEYS]

Each beacon is public randomness fixed only after the phase's last contribution (a future drand
round, a future block hash), announced in advance. See docs/trusted-setup.md.`,
	}
	cmd.AddCommand(
		newCeremonyInitCmd(circuits),
		newCeremonyContributeCmd(),
		newCeremonyStartPhase2Cmd(circuits),
		newCeremonyVerifyCmd(circuits),
		newCeremonyFinalizeCmd(circuits),
	)
	return cmd
}

// ceremonyInitOptions are the flags of `ceremony init`.
type ceremonyInitOptions struct {
	profile  string
	out      string
	cacheDir string
	noCache  bool
	json     bool
	circuits func() []profile.CircuitSpec
}

func newCeremonyInitCmd(circuits func() []profile.CircuitSpec) *cobra.Command {
	o := &ceremonyInitOptions{circuits: circuits}
	cmd := &cobra.Command{
		Use:   "init --profile P --out DIR",
		Short: "Start a ceremony: compile the profile's circuits and write phase 1's starting point",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCeremonyInit(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "", fmt.Sprintf("circuit profile (%v)", profile.Names()))
	f.StringVar(&o.out, "out", "", "ceremony directory to create")
	f.StringVar(&o.cacheDir, "cache", "", "compiled-circuit cache directory")
	f.BoolVar(&o.noCache, "no-cache", false, "compile without the cache")
	jsonFlag(cmd, &o.json)
	return cmd
}

func runCeremonyInit(o *ceremonyInitOptions, stdout, stderr io.Writer) error {
	if o.profile == "" || o.out == "" {
		return exitError(exitBadInput, errors.New("ceremony init needs --profile and --out"))
	}
	p, err := profile.Lookup(o.profile)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	// Before compiling: the ceremony never overwrites a directory.
	if err := refuseExisting(o.out, false, ""); err != nil {
		return err
	}
	cache, err := keysOpenCache(o.cacheDir, o.noCache)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	progress := keysProgress(stderr)
	compiled, err := keysCompileAll(cache, o.circuits(), p, progress)
	if err != nil {
		return err
	}
	m, err := ceremony.Init(o.out, p, compiled, progress)
	if err != nil {
		return err
	}
	if o.json {
		return printDocument(stdout, true, struct {
			Dir      string             `json:"dir"`
			Manifest *ceremony.Manifest `json:"manifest"`
		}{o.out, m})
	}
	fmt.Fprintf(stdout, "ceremony for profile %s created in %s (phase 1 domain size %d)\n", p.Name, o.out, m.Phase1Size)
	fmt.Fprintf(stdout, "next: each participant runs `solvency ceremony contribute --dir %s`\n", o.out)
	return nil
}

// ceremonyContributeOptions are the flags of `ceremony contribute`.
type ceremonyContributeOptions struct {
	dir, in, out string
	json         bool
}

func newCeremonyContributeCmd() *cobra.Command {
	o := &ceremonyContributeOptions{}
	cmd := &cobra.Command{
		Use:   "contribute (--dir DIR | --in FILE --out FILE)",
		Short: "Add your randomness: the next contribution of the open phase",
		Long: `contribute adds one contribution. With --dir it reads the latest contribution of the open
phase and writes the next numbered file (in phase 2, one per circuit). With --in/--out it works on
one file (.ph1 or .ph2) passed between participants; the coordinator then stores the output as the
next numbered file of that phase (and circuit).

Your randomness exists only in this process's memory and is gone when it exits. Run it on a machine
you trust, and do not run it under a debugger or with core dumps enabled.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCeremonyContribute(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "ceremony directory")
	f.StringVar(&o.in, "in", "", "previous contribution file (.ph1 or .ph2)")
	f.StringVar(&o.out, "out", "", "file to write your contribution to")
	jsonFlag(cmd, &o.json)
	return cmd
}

func runCeremonyContribute(o *ceremonyContributeOptions, stdout, stderr io.Writer) error {
	start := time.Now()
	var files []string
	switch {
	case o.dir != "" && o.in == "" && o.out == "":
		var err error
		if files, err = ceremony.Contribute(o.dir, keysProgress(stderr)); err != nil {
			return err
		}
	case o.dir == "" && o.in != "" && o.out != "":
		if err := ceremony.ContributeFile(o.in, o.out); err != nil {
			return err
		}
		files = []string{o.out}
	default:
		return exitError(exitBadInput, errors.New("contribute needs either --dir, or both --in and --out"))
	}
	if o.json {
		return printDocument(stdout, true, struct {
			Written []string `json:"written"`
			Seconds float64  `json:"seconds"`
		}{files, time.Since(start).Seconds()})
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "contribution written to %s\n", f)
	}
	return nil
}

// ceremonyPhase2Options are the flags of `ceremony start-phase2`.
type ceremonyPhase2Options struct {
	dir, beacon string
	json        bool
	circuits    func() []profile.CircuitSpec
}

func newCeremonyStartPhase2Cmd(circuits func() []profile.CircuitSpec) *cobra.Command {
	o := &ceremonyPhase2Options{circuits: circuits}
	cmd := &cobra.Command{
		Use:   "start-phase2 --dir DIR --beacon HEX",
		Short: "Close phase 1 with a public beacon and write each circuit's phase-2 starting point",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCeremonyStartPhase2(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "ceremony directory")
	f.StringVar(&o.beacon, "beacon", "", "public randomness fixed after the last phase-1 contribution, hex (16 to 64 bytes)")
	deprecateFromSource(cmd)
	jsonFlag(cmd, &o.json)
	return cmd
}

func runCeremonyStartPhase2(o *ceremonyPhase2Options, stdout, stderr io.Writer) error {
	b, err := ceremony.ParseBeacon(o.beacon)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	opts, err := ceremonyOptions(o.dir, o.circuits, stderr)
	if err != nil {
		return err
	}
	if err := ceremony.StartPhase2(o.dir, b, opts); err != nil {
		return err
	}
	if o.json {
		return printDocument(stdout, true, struct {
			Dir          string         `json:"dir"`
			Stage        ceremony.Stage `json:"stage"`
			Phase1Beacon string         `json:"phase1_beacon"`
		}{o.dir, ceremony.StagePhase2, fmt.Sprintf("%x", b)})
	}
	fmt.Fprintf(stdout, "phase 1 sealed; phase 2 is open: participants run `solvency ceremony contribute --dir %s`\n", o.dir)
	return nil
}

// ceremonyVerifyResult is the --json document of `ceremony verify` and `ceremony finalize`.
type ceremonyVerifyResult struct {
	Valid               bool              `json:"valid"`
	Error               string            `json:"error,omitempty"`
	Stage               ceremony.Stage    `json:"stage,omitempty"`
	Profile             string            `json:"profile,omitempty"`
	Phase1Contributions int               `json:"phase1_contributions"`
	Phase2Contributions map[string]int    `json:"phase2_contributions,omitempty"`
	TranscriptDigest    string            `json:"transcript_digest,omitempty"`
	VerifyingKeys       map[string]string `json:"verifying_keys,omitempty"`
	KeysChecked         string            `json:"keys_checked,omitempty"`
}

// ceremonyVerifyOptions are the flags of `ceremony verify`.
type ceremonyVerifyOptions struct {
	dir, keysDir string
	json         bool
	circuits     func() []profile.CircuitSpec
}

func newCeremonyVerifyCmd(circuits func() []profile.CircuitSpec) *cobra.Command {
	o := &ceremonyVerifyOptions{circuits: circuits}
	cmd := &cobra.Command{
		Use:   "verify --dir DIR [--keys KEYS]",
		Short: "Re-derive the ceremony from its transcript, check every contribution, and optionally a keys directory",
		Long: `verify compiles the profile's circuits from this binary's source and requires the ceremony to
be over exactly those (the R1CS files in DIR are never trusted), checks every contribution's proof
of knowledge and its chaining to the one before, and requires at least one contribution in every
closed phase (with none, the setup's secrets would be a public function of the beacons). On a
finalized ceremony it re-derives the keys and prints their digests, the transcript digest and the
contribution counts: the values to pin. With --keys it also requires every verifying key in KEYS to
be the derived one. Exit 0 valid, 1 invalid, 2 unusable input. See docs/trusted-setup.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCeremonyVerify(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "ceremony directory")
	f.StringVar(&o.keysDir, "keys", "", "keys directory whose verifying keys must be the ones the transcript derives")
	deprecateFromSource(cmd)
	jsonFlag(cmd, &o.json)
	return cmd
}

func runCeremonyVerify(o *ceremonyVerifyOptions, stdout, stderr io.Writer) error {
	if o.dir == "" {
		return exitError(exitBadInput, errors.New("verify needs --dir"))
	}
	if _, err := os.Stat(o.dir); err != nil {
		return exitError(exitBadInput, err)
	}
	opts, err := ceremonyOptions(o.dir, o.circuits, stderr)
	if err != nil {
		return err
	}
	var k *keys.Keys
	if o.keysDir != "" {
		if k, err = keys.LoadVerifying(o.keysDir); err != nil {
			return exitError(exitBadInput, err)
		}
	}
	out, verr := verifyCeremony(o.dir, opts, k, o.keysDir)
	if o.json {
		if err := printDocument(stdout, out.Valid, out); err != nil {
			return err
		}
	} else if verr == nil {
		printCeremonyResult(stdout, out)
	}
	if verr != nil {
		return exitError(exitInvalid, fmt.Errorf("ceremony is not valid: %w", verr))
	}
	return nil
}

// verifyCeremony verifies the transcript and, when k is given, that its keys are the derived ones.
func verifyCeremony(dir string, opts ceremony.Options, k *keys.Keys, keysDir string) (ceremonyVerifyResult, error) {
	res, verr := ceremony.Verify(dir, opts)
	out := ceremonyVerifyResult{Valid: verr == nil}
	if verr == nil {
		out.Stage, out.Profile = res.Stage, res.Manifest.Profile.Name
		out.Phase1Contributions, out.Phase2Contributions = res.Phase1Contributions, res.Phase2Contributions
		out.TranscriptDigest = res.TranscriptDigest
		if pins, err := res.Pins(); err == nil {
			out.VerifyingKeys = pins.VerifyingKeys
			if k != nil {
				verr = pins.CheckKeys(k)
				out.Valid = verr == nil
				out.KeysChecked = keysDir
			}
		} else if k != nil {
			verr = err
			out.Valid = false
		}
	}
	if verr != nil {
		out.Error = verr.Error()
	}
	return out, verr
}

func printCeremonyResult(w io.Writer, r ceremonyVerifyResult) {
	fmt.Fprintf(w, "ceremony valid: profile %s (circuits compiled from source), stage %s, %d phase-1 contributions\n", r.Profile, r.Stage, r.Phase1Contributions)
	for _, name := range slices.Sorted(maps.Keys(r.Phase2Contributions)) {
		fmt.Fprintf(w, "  phase 2 %-12s %d contributions\n", name, r.Phase2Contributions[name])
	}
	if r.TranscriptDigest != "" {
		fmt.Fprintf(w, "transcript sha256 %s\n", r.TranscriptDigest)
		for _, name := range slices.Sorted(maps.Keys(r.VerifyingKeys)) {
			fmt.Fprintf(w, "  vk %-12s sha256 %s\n", name, r.VerifyingKeys[name])
		}
	}
	if r.Stage != ceremony.StageFinal {
		fmt.Fprintln(w, "not finalized: it derives no keys yet, and nothing can be pinned from it")
	}
	if r.KeysChecked != "" {
		fmt.Fprintf(w, "keys in %s are the ones this transcript derives\n", r.KeysChecked)
	}
}

// ceremonyFinalizeOptions are the flags of `ceremony finalize`.
type ceremonyFinalizeOptions struct {
	dir, beacon, out string
	json             bool
	circuits         func() []profile.CircuitSpec
}

func newCeremonyFinalizeCmd(circuits func() []profile.CircuitSpec) *cobra.Command {
	o := &ceremonyFinalizeOptions{circuits: circuits}
	cmd := &cobra.Command{
		Use:   "finalize --dir DIR --beacon HEX --out KEYS",
		Short: "Verify the transcript, apply the phase-2 beacon and write the keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCeremonyFinalize(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "ceremony directory")
	f.StringVar(&o.beacon, "beacon", "", "public randomness fixed after the last phase-2 contribution, hex (16 to 64 bytes)")
	f.StringVar(&o.out, "out", "", "keys directory to create")
	deprecateFromSource(cmd)
	jsonFlag(cmd, &o.json)
	return cmd
}

func runCeremonyFinalize(o *ceremonyFinalizeOptions, stdout, stderr io.Writer) error {
	if o.dir == "" || o.out == "" {
		return exitError(exitBadInput, errors.New("finalize needs --dir, --beacon and --out"))
	}
	b, err := ceremony.ParseBeacon(o.beacon)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	// Before the transcript is verified (minutes at production sizes): keys are never overwritten.
	if err := refuseExisting(o.out, false, ""); err != nil {
		return err
	}
	opts, err := ceremonyOptions(o.dir, o.circuits, stderr)
	if err != nil {
		return err
	}
	res, err := ceremony.Finalize(o.dir, b, o.out, opts)
	if err != nil {
		return err
	}
	pins, err := res.Pins()
	if err != nil {
		return err
	}
	r := ceremonyVerifyResult{Valid: true, Stage: res.Stage, Profile: res.Manifest.Profile.Name,
		Phase1Contributions: res.Phase1Contributions, Phase2Contributions: res.Phase2Contributions,
		TranscriptDigest: res.TranscriptDigest, VerifyingKeys: pins.VerifyingKeys}
	if o.json {
		return printDocument(stdout, true, r)
	}
	printCeremonyResult(stdout, r)
	fmt.Fprintf(stdout, "keys written to %s; publish the transcript and the digests above\n", o.out)
	return nil
}

// ceremonyOptions builds verification options: the circuits are always compiled from this
// binary's source for the ceremony's profile, which must be a built-in one, and must be the ones
// the ceremony ran over; the directory's R1CS files are never trusted.
func ceremonyOptions(dir string, circuits func() []profile.CircuitSpec, stderr io.Writer) (ceremony.Options, error) {
	progress := keysProgress(stderr)
	opts := ceremony.Options{Progress: progress}
	if dir == "" {
		return opts, exitError(exitBadInput, errors.New("--dir is required"))
	}
	m, err := ceremony.ReadManifest(dir)
	if err != nil {
		return opts, exitError(exitBadInput, err)
	}
	if opts.Source, err = ceremony.CompileSource(m.Profile.Name, circuits(), progress); err != nil {
		return opts, exitError(exitBadInput, err)
	}
	return opts, nil
}

// deprecateFromSource keeps the old --from-source flag working: compiling from source is no
// longer optional.
func deprecateFromSource(cmd *cobra.Command) {
	var ignored bool
	cmd.Flags().BoolVar(&ignored, "from-source", false, "no effect: the circuits are always compiled from source")
	_ = cmd.Flags().MarkDeprecated("from-source", "the circuits are always compiled from source now")
}
