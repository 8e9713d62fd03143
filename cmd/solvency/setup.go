package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
)

// setupOptions are the flags of `solvency setup`.
type setupOptions struct {
	profile  string
	out      string
	cacheDir string
	noCache  bool
	replace  bool
	json     bool
	// circuits returns the circuits to set up; tests substitute small ones.
	circuits func() []profile.CircuitSpec
}

func newSetupCmd() *cobra.Command {
	return newSetupCmdWith(profile.Circuits)
}

func newSetupCmdWith(circuits func() []profile.CircuitSpec) *cobra.Command {
	o := &setupOptions{circuits: circuits}
	cmd := &cobra.Command{
		Use:   "setup --profile P --out KEYS",
		Short: "Single-party development setup (keys NOT fit for production)",
		Long: `setup runs a single-party Groth16 setup for every circuit of a profile and writes the
keys directory KEYS. Whoever runs it knows the setup's secret randomness and could forge proofs of
false statements: the keys are NOT fit for production. They are marked "dev-single-party" and
every output made with them says so. For keys that others can rely on, run a multi-party ceremony: see 'solvency ceremony'.`,
		Example: `  solvency setup --profile test --out keys          # seconds: tests and quick demos
  solvency setup --profile production --out keys    # minutes: the 512-account batch circuit
  solvency setup --profile demo --out keys --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSetup(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "", fmt.Sprintf("circuit profile (%v)", profile.Names()))
	f.StringVar(&o.out, "out", "", "keys directory to create")
	f.StringVar(&o.cacheDir, "cache", "", "compiled-circuit cache directory (default: $SOLVENCY_CACHE/circuits or the user cache)")
	f.BoolVar(&o.noCache, "no-cache", false, "compile the circuits without reading or writing the cache")
	f.BoolVar(&o.replace, "replace", false, "replace KEYS if it exists")
	jsonFlag(cmd, &o.json)
	return cmd
}

// setupResult is the --json document of setup (fields are stable).
type setupResult struct {
	Keys     string             `json:"keys"`
	Profile  string             `json:"profile"`
	Trust    keys.Trust         `json:"trust"`
	Warning  string             `json:"warning"`
	Circuits []keys.CircuitInfo `json:"circuits"`
	Seconds  float64            `json:"seconds"`
}

func runSetup(o *setupOptions, stdout, stderr io.Writer) error {
	if o.profile == "" || o.out == "" {
		return exitError(exitBadInput, errors.New("setup needs --profile and --out"))
	}
	p, err := profile.Lookup(o.profile)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	// Checked before minutes are spent on compiling and on the setup: keys.Save would refuse the
	// directory only at the end.
	if err := refuseExisting(o.out, o.replace, "--replace"); err != nil {
		return err
	}
	cache, err := keysOpenCache(o.cacheDir, o.noCache)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	start := time.Now()
	progress := keysProgress(stderr)
	compiled, err := keysCompileAll(cache, o.circuits(), p, progress)
	if err != nil {
		return err
	}
	// The warning goes to stderr before the setup, and again at the end, so that it is seen
	// whether the run is watched or only its tail is read.
	fmt.Fprintln(stderr, keys.DevWarning)
	circuits, err := keys.DevSetup(compiled, progress)
	if err != nil {
		return err
	}
	meta := keys.DevMetadata(p)
	if err := keys.Save(o.out, meta, circuits, o.replace); err != nil {
		return err
	}
	res := setupResult{Keys: o.out, Profile: p.Name, Trust: meta.Trust, Warning: keys.DevWarning,
		Circuits: meta.Circuits, Seconds: time.Since(start).Seconds()}
	fmt.Fprintln(stderr, keys.DevWarning)
	if o.json {
		return printDocument(stdout, true, res)
	}
	// stdout too says what these keys are: it may be the only stream a script keeps.
	fmt.Fprintf(stdout, "DEV KEYS (NOT fit for production) for profile %s written to %s (%s, %.1fs)\n", p.Name, o.out, meta.Trust, res.Seconds)
	for _, c := range meta.Circuits {
		fmt.Fprintf(stdout, "  %-12s %9d constraints  vk sha256 %s\n", c.Name, c.Constraints, c.VKDigest)
	}
	return nil
}

// keysOpenCache returns the compiled-circuit cache the flags ask for.
func keysOpenCache(dir string, disabled bool) (circuitcache.Cache, error) {
	if disabled {
		return circuitcache.Cache{}, nil
	}
	if dir != "" {
		return circuitcache.Cache{Dir: dir}, nil
	}
	d, err := circuitcache.DefaultDir()
	if err != nil {
		return circuitcache.Cache{}, err
	}
	return circuitcache.Cache{Dir: d}, nil
}

// keysCompileAll compiles (or loads from the cache) every circuit of the profile, with progress.
func keysCompileAll(cache circuitcache.Cache, specs []profile.CircuitSpec, p profile.Profile, progress func(string, ...any)) ([]*circuitcache.Compiled, error) {
	if len(specs) == 0 {
		return nil, exitError(exitBadInput, errors.New("no circuits are registered in this build (profile.Circuits is empty): the batch and solvency circuits have not landed yet"))
	}
	var out []*circuitcache.Compiled
	for _, s := range specs {
		start := time.Now()
		cc, err := cache.Get(s, p)
		if err != nil {
			return nil, err
		}
		how := "compiled"
		if cc.Cached {
			how = "loaded from cache"
		}
		progress("circuit %s: %d constraints, %s in %s", cc.Name, cc.CCS.GetNbConstraints(), how, time.Since(start).Round(time.Millisecond))
		out = append(out, cc)
	}
	return out, nil
}

// keysProgress returns a progress printer writing plain lines to w.
func keysProgress(w io.Writer) func(string, ...any) {
	return func(format string, args ...any) {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
