package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
)

// versionInfo is what `solvency version --json` prints. Circuit shape digests change whenever a
// circuit or a profile changes, so two binaries that print the same ones need the same keys.
type versionInfo struct {
	OK       bool              `json:"ok"`
	Module   string            `json:"module"`
	Version  string            `json:"version"`
	Commit   string            `json:"commit,omitempty"`
	Modified bool              `json:"modified,omitempty"`
	Go       string            `json:"go"`
	Gnark    string            `json:"gnark"`
	Profiles map[string]string `json:"profile_digests"`
	Keys     []versionKey      `json:"keys,omitempty"`
}

type versionKey struct {
	Circuit  string `json:"circuit"`
	VKDigest string `json:"vk_digest"`
	Trust    string `json:"trust"`
}

type versionOptions struct {
	keys string
	json bool
}

func newVersionCmd() *cobra.Command {
	o := &versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the build's version, commit, circuit profile digests and (with --keys) key digests",
		Example: `  solvency version
  solvency --version
  solvency version --keys keys --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().StringVar(&o.keys, "keys", "", "a keys directory whose verifying-key digests to print")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

func buildVersion() versionInfo {
	v := versionInfo{OK: true, Module: "github.com/solvency-dev/solvency", Version: "(devel)", Go: runtime.Version(),
		Gnark: circuitcache.GnarkVersion(), Profiles: map[string]string{}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	for _, n := range profile.Names() {
		if p, err := profile.Lookup(n); err == nil {
			v.Profiles[n] = p.Digest()
		}
	}
	return v
}

func runVersion(out io.Writer, o *versionOptions) error {
	v := buildVersion()
	if o.keys != "" {
		m, err := keys.ReadMetadata(o.keys)
		if err != nil {
			return exitError(exitBadInput, fmt.Errorf("--keys: %w", err))
		}
		for _, c := range m.Circuits {
			v.Keys = append(v.Keys, versionKey{Circuit: c.Name, VKDigest: c.VKDigest, Trust: string(m.Trust)})
		}
	}
	if o.json {
		return writeJSON(out, v)
	}
	fmt.Fprint(out, versionText(v))
	return nil
}

// versionText is the human form, also what `solvency --version` prints.
func versionText(v versionInfo) string {
	s := fmt.Sprintf("solvency %s\n", v.Version)
	if v.Commit != "" {
		dirty := ""
		if v.Modified {
			dirty = " (modified)"
		}
		s += fmt.Sprintf("commit   %s%s\n", v.Commit, dirty)
	}
	s += fmt.Sprintf("go       %s\ngnark    %s\n", v.Go, v.Gnark)
	for _, n := range profile.Names() {
		s += fmt.Sprintf("profile  %-12s %s\n", n, v.Profiles[n])
	}
	for _, k := range v.Keys {
		s += fmt.Sprintf("key      %-12s %s (%s)\n", k.Circuit, k.VKDigest, k.Trust)
	}
	return s
}
