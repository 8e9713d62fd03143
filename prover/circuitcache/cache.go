// Package circuitcache compiles circuits to R1CS and keeps the result on disk, so that setup,
// proving and the ceremony do not recompile a large circuit on every run.
//
// An entry is keyed by the circuit's name, the profile, and a shape digest that covers the
// circuit spec's version, the circuit struct's Go type (field names, types, tags, array lengths),
// the profile's dimensions and gnark's version. On load the R1CS file's sha256 must equal the
// digest recorded beside it; anything stale or damaged is recompiled and rewritten atomically.
//
// The cache holds the operator's own compiled circuits. An auditor re-deriving keys compiles from
// source (or compares the R1CS digest recorded in a ceremony) rather than trusting a cache.
package circuitcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"

	"github.com/consensys/gnark"
	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"

	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/prover/profile"
)

// Compiled is a compiled circuit with the digests that identify it.
type Compiled struct {
	Name        string
	Version     string // the spec's version
	CCS         constraint.ConstraintSystem
	ShapeDigest string // what the cache is keyed by (see package doc)
	R1CSDigest  string // sha256 of the serialized R1CS
	// Cached says whether the R1CS came from disk rather than a fresh compile.
	Cached bool
}

// entry is the JSON sidecar written beside each cached R1CS.
type entry struct {
	Format      string `json:"format"`
	Circuit     string `json:"circuit"`
	Profile     string `json:"profile"`
	ShapeDigest string `json:"shape_digest"`
	R1CSDigest  string `json:"r1cs_digest"`
	Constraints int    `json:"constraints"`
	Gnark       string `json:"gnark"`
}

const entryFormat = "solvency-r1cs-cache/v1"

// Cache is a directory of compiled circuits. The zero value (Dir "") compiles every time.
type Cache struct {
	Dir string
}

// GnarkVersion is the gnark module version this binary was built with, from the build info
// when available (gnark's own Version constant lags its releases: v0.16.1 says 0.16.0), else that
// constant, labelled as such (test binaries carry no dependency list).
func GnarkVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/consensys/gnark" {
				if d.Replace != nil {
					return d.Replace.Version + "(replaces " + d.Version + ")"
				}
				return d.Version
			}
		}
	}
	return "gnark.Version " + gnark.Version.String() + " (module version unavailable)"
}

// ShapeDigest builds circuit for the profile and digests what determines its constraints as far
// as can be seen without compiling.
func ShapeDigest(spec profile.CircuitSpec, p profile.Profile, circuit frontend.Circuit) string {
	h := sha256.New()
	fmt.Fprintf(h, "solvency-circuit-shape/v1\ncircuit=%s\nversion=%s\ngnark=%s\nprofile=%s\ntype=",
		spec.Name, spec.Version, GnarkVersion(), p.Digest())
	describeType(h, reflect.TypeOf(circuit), 0)
	return hex.EncodeToString(h.Sum(nil))
}

// describeType writes a description of t's structure, following struct fields so that a renamed,
// retagged or resized field changes the digest. Depth is bounded to stay total on recursive types.
func describeType(w io.Writer, t reflect.Type, depth int) {
	if t == nil {
		io.WriteString(w, "nil")
		return
	}
	if depth > 16 {
		io.WriteString(w, t.String())
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		io.WriteString(w, "*")
		describeType(w, t.Elem(), depth+1)
	case reflect.Array:
		fmt.Fprintf(w, "[%d]", t.Len())
		describeType(w, t.Elem(), depth+1)
	case reflect.Slice:
		io.WriteString(w, "[]")
		describeType(w, t.Elem(), depth+1)
	case reflect.Struct:
		fmt.Fprintf(w, "%s{", t.String())
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			fmt.Fprintf(w, "%s %q ", f.Name, f.Tag)
			describeType(w, f.Type, depth+1)
			io.WriteString(w, ";")
		}
		io.WriteString(w, "}")
	default:
		io.WriteString(w, t.String())
	}
}

// Compile compiles circuit for BN254 R1CS (Groth16).
func Compile(name string, circuit frontend.Circuit) (constraint.ConstraintSystem, error) {
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, circuit)
	if err != nil {
		return nil, fmt.Errorf("compile circuit %s: %w", name, err)
	}
	return ccs, nil
}

// Digest returns the hex sha256 of ccs's serialization.
func Digest(ccs constraint.ConstraintSystem) (string, error) {
	h := sha256.New()
	if _, err := ccs.WriteTo(h); err != nil {
		return "", fmt.Errorf("serialize constraint system: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Get returns spec's circuit for p, compiled, from the cache when a valid entry exists.
func (c Cache) Get(spec profile.CircuitSpec, p profile.Profile) (*Compiled, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	circuit, err := spec.New(p)
	if err != nil {
		return nil, fmt.Errorf("build circuit %s for profile %s: %w", spec.Name, p.Name, err)
	}
	shape := ShapeDigest(spec, p, circuit)
	if c.Dir != "" {
		if got, err := c.load(spec.Name, p.Name, shape); err == nil {
			got.Version = spec.Version
			return got, nil
		}
		// Any failure to load (absent, stale, damaged) falls through to a rebuild: the cache is an
		// optimisation and never a source of truth.
	}
	ccs, err := Compile(spec.Name, circuit)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := ccs.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("serialize circuit %s: %w", spec.Name, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	out := &Compiled{Name: spec.Name, Version: spec.Version, CCS: ccs, ShapeDigest: shape, R1CSDigest: hex.EncodeToString(sum[:])}
	if c.Dir != "" {
		if err := c.store(p.Name, out, buf.Bytes()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c Cache) paths(circuit, prof, shape string) (r1csPath, metaPath string) {
	base := filepath.Join(c.Dir, fmt.Sprintf("%s-%s-%s", circuit, prof, shape[:16]))
	return base + ".r1cs", base + ".json"
}

func (c Cache) load(circuit, prof, shape string) (*Compiled, error) {
	r1csPath, metaPath := c.paths(circuit, prof, shape)
	mb, err := os.ReadFile(metaPath)
	if err != nil {
		return nil, err
	}
	var e entry
	if err := json.Unmarshal(mb, &e); err != nil {
		return nil, fmt.Errorf("cache entry %s: %w", metaPath, err)
	}
	if e.Format != entryFormat || e.ShapeDigest != shape || e.Circuit != circuit {
		return nil, errors.New("stale cache entry")
	}
	data, err := os.ReadFile(r1csPath)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != e.R1CSDigest {
		return nil, fmt.Errorf("cached %s does not match its digest", r1csPath)
	}
	ccs := groth16.NewCS(ecc.BN254)
	if _, err := ccs.ReadFrom(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("read cached %s: %w", r1csPath, err)
	}
	return &Compiled{Name: circuit, CCS: ccs, ShapeDigest: shape, R1CSDigest: e.R1CSDigest, Cached: true}, nil
}

func (c Cache) store(prof string, cc *Compiled, data []byte) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("create circuit cache %s: %w", c.Dir, err)
	}
	r1csPath, metaPath := c.paths(cc.Name, prof, cc.ShapeDigest)
	// The R1CS goes first: a crash between the two writes leaves a sidecar that does not match,
	// which load treats as stale.
	if err := atomicfile.WriteFile(r1csPath, data, 0o644); err != nil {
		return fmt.Errorf("cache circuit %s: %w", cc.Name, err)
	}
	e := entry{Format: entryFormat, Circuit: cc.Name, Profile: prof, ShapeDigest: cc.ShapeDigest,
		R1CSDigest: cc.R1CSDigest, Constraints: cc.CCS.GetNbConstraints(), Gnark: GnarkVersion()}
	mb, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return fmt.Errorf("encode cache entry: %w", err)
	}
	if err := atomicfile.WriteFile(metaPath, append(mb, '\n'), 0o644); err != nil {
		return fmt.Errorf("cache circuit %s: %w", cc.Name, err)
	}
	return nil
}

// GetAll compiles (or loads) every spec for p, in order.
func (c Cache) GetAll(specs []profile.CircuitSpec, p profile.Profile) ([]*Compiled, error) {
	if len(specs) == 0 {
		return nil, errors.New("no circuits registered: the batch and solvency circuits are plugged in by profile.Circuits")
	}
	seen := map[string]bool{}
	var out []*Compiled
	for _, s := range specs {
		if seen[s.Name] {
			return nil, fmt.Errorf("circuit %q registered twice", s.Name)
		}
		seen[s.Name] = true
		cc, err := c.Get(s, p)
		if err != nil {
			return nil, err
		}
		out = append(out, cc)
	}
	return out, nil
}

// DefaultDir is where the CLI caches compiled circuits unless told otherwise.
func DefaultDir() (string, error) {
	if d := strings.TrimSpace(os.Getenv("SOLVENCY_CACHE")); d != "" {
		return filepath.Join(d, "circuits"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory (set SOLVENCY_CACHE): %w", err)
	}
	return filepath.Join(d, "solvency", "circuits"), nil
}
