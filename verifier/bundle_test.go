package verifier_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/verifier"
)

// outcome verifies dir and says whether it was accepted; a check that failed or an unusable
// bundle both count as rejected.
func accepted(t testing.TB, dir string, pins bundle.Pins) (bool, *verifier.Report, error) {
	t.Helper()
	rep, err := verifier.VerifyBundle(dir, pins, verifier.Options{Workers: 2})
	if err != nil {
		if !errors.Is(err, verifier.ErrUnusable) {
			t.Fatalf("VerifyBundle returned an error that is not ErrUnusable: %v", err)
		}
		return false, nil, err
	}
	if rep.Valid != (rep.Failed() == nil) {
		t.Fatalf("report says valid=%v but failed check %+v", rep.Valid, rep.Failed())
	}
	return rep.Valid, rep, nil
}

// freshBundle copies the fixture's bundle into a temporary directory.
func freshBundle(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	copyDir(t, fx.Bundle, dir)
	return dir
}

func readManifest(t testing.TB, dir string) *bundle.Manifest {
	t.Helper()
	m, err := bundle.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func writeManifest(t testing.TB, dir string, m *bundle.Manifest) {
	t.Helper()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, bundle.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// failedCheck asserts that the check whose name contains rule was run and failed.
func failedCheck(t *testing.T, rep *verifier.Report, rule string) {
	t.Helper()
	if rep == nil {
		t.Fatalf("no report: the bundle was unusable, want check %q to fail", rule)
	}
	if rep.Valid {
		t.Fatalf("bundle accepted; want check %q to fail", rule)
	}
	for _, c := range rep.Checks {
		if strings.Contains(c.Name, rule) {
			if c.OK {
				t.Fatalf("check %q passed; want it to fail (checks: %+v)", c.Name, rep.Checks)
			}
			return
		}
	}
	t.Fatalf("no check named %q ran (checks: %+v)", rule, rep.Checks)
}

func TestVerifyBundle_FixtureIsValid(t *testing.T) {
	ok, rep, err := accepted(t, fx.Bundle, fx.Pins)
	if !ok {
		t.Fatalf("fixture bundle rejected: %v %+v", err, rep)
	}
}

// Mutation: any single changed byte of any proof file makes verification fail, whether the
// manifest's sha256 pin is left alone (the pin catches it) or updated to match (the checked
// proof reader or the pairing check catches it).
func TestMutation_EveryProofByte(t *testing.T) {
	m := readManifest(t, fx.Bundle)
	files := []bundle.ProofFile{m.Solvency}
	for _, b := range m.Batches {
		files = append(files, b.ProofFile)
	}
	dir := freshBundle(t)
	tried := 0
	for fi, pf := range files {
		path := filepath.Join(dir, filepath.FromSlash(pf.Path))
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range orig {
			for _, repin := range []bool{false, true} {
				if !repin && i > 0 {
					continue // the pin check is the same for every byte: once per file
				}
				mut := bytes.Clone(orig)
				mut[i] ^= 0x01
				if err := os.WriteFile(path, mut, 0o644); err != nil {
					t.Fatal(err)
				}
				mm := readManifest(t, fx.Bundle)
				if repin {
					if fi == 0 {
						mm.Solvency.SHA256 = bundle.SHA256Hex(mut)
					} else {
						mm.Batches[fi-1].SHA256 = bundle.SHA256Hex(mut)
					}
				}
				writeManifest(t, dir, mm)
				if ok, _, _ := accepted(t, dir, fx.Pins); ok {
					t.Errorf("%s with byte %d flipped (repinned %v) verifies", pf.Path, i, repin)
				}
				tried++
			}
		}
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeManifest(t, dir, readManifest(t, fx.Bundle))
	if ok, rep, err := accepted(t, dir, fx.Pins); !ok {
		t.Fatalf("restored bundle rejected: %v %+v", err, rep)
	}
	t.Logf("%d proof mutations over %d files, all rejected", tried, len(files))
}

// unbound lists the manifest fields that no proof and no check binds, with the reason. A change
// to one of them is not detected offline by design; everything else must be. The list is kept
// exact: a field that becomes bound must be removed from it (the test says so).
var unbound = []struct {
	re     *regexp.Regexp
	reason string
}{
	{regexp.MustCompile(`^profile$`), "a label: the keys (pinned, V1) fix the circuit shape"},
	{regexp.MustCompile(`^created$`), "a timestamp of the bundle's writing, not part of the statement"},
	{regexp.MustCompile(`^trust$`), "the operator's claim; the auditor's trust comes from the pins (V1)"},
	{regexp.MustCompile(`^statement\.prices\[\d+\]\.(round|updated_at)$`), "the feed round and its time: not public inputs; the registry checks them on chain with getRoundData (P1)"},
	{regexp.MustCompile(`^statement\.(chain_id|registry)$`), "inside the policy preimage (policyHash binds them) but the policy is not in the bundle"},
}

func isUnbound(path string) (string, bool) {
	for _, u := range unbound {
		if u.re.MatchString(path) {
			return u.reason, true
		}
	}
	return "", false
}

var (
	fieldHex  = regexp.MustCompile(`^0x[0-9a-f]{64}$`)
	digestHex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	decimal   = regexp.MustCompile(`^[0-9]+$`)
)

// mutate returns a different value of the same JSON type.
func mutate(v any) any {
	switch x := v.(type) {
	case string:
		switch {
		case fieldHex.MatchString(x), digestHex.MatchString(x):
			last := x[len(x)-1]
			repl := "0"
			if last == '0' {
				repl = "1"
			}
			return x[:len(x)-1] + repl
		case decimal.MatchString(x):
			n, _ := new(big.Int).SetString(x, 10)
			return n.Add(n, big.NewInt(1)).String()
		default:
			return x + "x"
		}
	case json.Number:
		n, _ := new(big.Int).SetString(x.String(), 10)
		return json.Number(n.Add(n, big.NewInt(1)).String())
	case bool:
		return !x
	case nil:
		return "x"
	}
	panic(fmt.Sprintf("mutate: unexpected %T", v))
}

type jsonLeaf struct {
	path []any // string keys and int indices
}

func (l jsonLeaf) String() string {
	var b strings.Builder
	for _, p := range l.path {
		switch k := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}

func leaves(v any, path []any, out *[]jsonLeaf) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			leaves(c, append(append([]any(nil), path...), k), out)
		}
	case []any:
		for i, c := range x {
			leaves(c, append(append([]any(nil), path...), i), out)
		}
	default:
		*out = append(*out, jsonLeaf{path: path})
	}
}

func decodeGeneric(t testing.TB, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// setLeaf replaces the value at path in a decoded JSON tree.
func setLeaf(root any, path []any, f func(any) any) {
	cur := root
	for i, p := range path {
		last := i == len(path)-1
		switch k := p.(type) {
		case string:
			m := cur.(map[string]any)
			if last {
				m[k] = f(m[k])
				return
			}
			cur = m[k]
		case int:
			s := cur.([]any)
			if last {
				s[k] = f(s[k])
				return
			}
			cur = s[k]
		}
	}
}

// Mutation: changing any single public field of the manifest (every statement field, every
// public input, every batch's index/root/before/after/digest/proof pin, every top-tree entry,
// every liabilities field, the asset table, the key digests) makes verification fail, except
// the documented unbound fields.
func TestMutation_EveryManifestField(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(fx.Bundle, bundle.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var all []jsonLeaf
	leaves(decodeGeneric(t, raw), nil, &all)
	dir := freshBundle(t)
	var missed, unboundSeen []string
	counts := map[string]int{}
	for _, l := range all {
		tree := decodeGeneric(t, raw)
		setLeaf(tree, l.path, mutate)
		b, err := json.MarshalIndent(tree, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, bundle.ManifestFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		ok, _, _ := accepted(t, dir, fx.Pins)
		name := l.String()
		counts[strings.SplitN(name, ".", 2)[0]]++
		reason, isU := isUnbound(name)
		switch {
		case ok && !isU:
			missed = append(missed, name)
		case ok && isU:
			unboundSeen = append(unboundSeen, name+": "+reason)
		case !ok && isU:
			t.Errorf("%s is listed as unbound but a change to it is now rejected: remove it from the list", name)
		}
	}
	for _, name := range missed {
		t.Errorf("changing manifest field %s does not make verification fail", name)
	}
	for _, s := range unboundSeen {
		t.Logf("unbound (accepted when changed, by design): %s", s)
	}
	t.Logf("%d manifest fields mutated one at a time (by section: %v); %d unbound", len(all), counts, len(unboundSeen))
	if len(all) < 50 {
		t.Fatalf("only %d manifest leaves: the walk is broken", len(all))
	}
}

// L3: a skipped, repeated or reordered batch fails verification, also when the manifest is
// otherwise made consistent around the change.
func TestL3_SkippedRepeatedReorderedBatchesFail(t *testing.T) {
	base := readManifest(t, fx.Bundle)
	if len(base.Batches) < 3 {
		t.Fatalf("fixture has %d batches, need 3", len(base.Batches))
	}
	cases := []struct {
		name string
		edit func(m *bundle.Manifest)
		rule string
	}{
		{"skip batch 1", func(m *bundle.Manifest) {
			m.Batches = append(m.Batches[:1:1], m.Batches[2:]...)
		}, "tree shape"},
		{"skip batch 1, n lowered to match", func(m *bundle.Manifest) {
			m.Batches = append(m.Batches[:1:1], m.Batches[2:]...)
			m.Liabilities.Batches = len(m.Batches)
		}, "(L3)"},
		{"skip batch 1, renumbered", func(m *bundle.Manifest) {
			m.Batches = append(m.Batches[:1:1], m.Batches[2:]...)
			m.Liabilities.Batches = len(m.Batches)
			m.Batches[1].Index = 1
		}, "(L1, L3)"},
		{"repeat batch 1 in place of batch 2", func(m *bundle.Manifest) {
			m.Batches[2] = m.Batches[1]
		}, "indexed 0..n-1"},
		{"repeat batch 1, relabelled as index 2", func(m *bundle.Manifest) {
			m.Batches[2] = m.Batches[1]
			m.Batches[2].Index = 2
		}, "(L1, L3)"},
		{"swap batches 1 and 2", func(m *bundle.Manifest) {
			m.Batches[1], m.Batches[2] = m.Batches[2], m.Batches[1]
		}, "indexed 0..n-1"},
		{"swap batches 1 and 2, relabelled", func(m *bundle.Manifest) {
			m.Batches[1], m.Batches[2] = m.Batches[2], m.Batches[1]
			m.Batches[1].Index, m.Batches[2].Index = 1, 2
		}, "(L1, L3)"},
		{"drop the last batch, n lowered", func(m *bundle.Manifest) {
			m.Batches = m.Batches[:len(m.Batches)-1]
			m.Liabilities.Batches = len(m.Batches)
		}, "(L1, L3)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := freshBundle(t)
			m := readManifest(t, fx.Bundle)
			c.edit(m)
			writeManifest(t, dir, m)
			ok, rep, err := accepted(t, dir, fx.Pins)
			if ok {
				t.Fatal("accepted")
			}
			if err != nil {
				t.Fatalf("unusable instead of invalid: %v", err)
			}
			failedCheck(t, rep, c.rule)
		})
	}
}

// L1: batch 0 must start from the public zero commitment ACC0. A manifest whose batch 0 starts
// anywhere else is rejected by the chain check, even with its digest recomputed to match.
func TestL1_Batch0MustStartAtACC0(t *testing.T) {
	h := poseidon.NewHasher()
	for _, c := range []struct {
		name   string
		before func(m *bundle.Manifest) fr.Element
	}{
		{"ACC0 of another epoch", func(m *bundle.Manifest) fr.Element {
			return batch.ACC0(h, m.Statement.SnapshotEpoch+1, m.Assets.Len())
		}},
		{"an arbitrary element", func(*bundle.Manifest) fr.Element { var e fr.Element; e.SetUint64(7); return e }},
		{"batch 1's before", func(m *bundle.Manifest) fr.Element { return m.Batches[1].Before.Element }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := freshBundle(t)
			m := readManifest(t, fx.Bundle)
			m.Batches[0].Before = poseidon.Element{Element: c.before(m)}
			m.Batches[0].Digest = poseidon.Element{Element: batch.Digest(h, m.Statement.SnapshotEpoch, 0,
				m.Batches[0].Root.Element, m.Batches[0].Before.Element, m.Batches[0].After.Element)}
			writeManifest(t, dir, m)
			ok, rep, err := accepted(t, dir, fx.Pins)
			if ok || err != nil {
				t.Fatalf("accepted=%v err=%v; want a failed check", ok, err)
			}
			failedCheck(t, rep, "starts at ACC0")
			if !strings.Contains(rep.Failed().Detail+checkDetail(rep, "starts at ACC0"), "ACC0") {
				t.Fatalf("the failure does not name ACC0: %+v", rep.Checks)
			}
		})
	}
}

func checkDetail(rep *verifier.Report, name string) string {
	for _, c := range rep.Checks {
		if strings.Contains(c.Name, name) {
			return c.Detail
		}
	}
	return ""
}

// L4: a padding slot of the top tree that is not the EMPTY_h constant is rejected, even when the
// tree above it, the root, LC and the statement's public inputs are all recomputed to match it.
func TestL4_PaddingSlotMustBeEmptyConstant(t *testing.T) {
	h := poseidon.NewHasher()
	base := readManifest(t, fx.Bundle)
	n := base.Liabilities.Batches
	slots := len(base.Liabilities.TopLevels[0])
	if slots <= n {
		t.Fatalf("fixture has no padding slot (%d batches, %d slots)", n, slots)
	}
	for _, slot := range []int{n, slots - 1} {
		t.Run(fmt.Sprintf("slot %d", slot), func(t *testing.T) {
			dir := freshBundle(t)
			m := readManifest(t, fx.Bundle)
			lb := &m.Liabilities
			// A "hidden" subtree: the root of one real batch, an unproven copy of its accounts.
			lb.TopLevels[0][slot] = m.Batches[0].Root
			for l := 1; l < len(lb.TopLevels); l++ {
				for i := range lb.TopLevels[l] {
					var kids [poseidon.Arity]fr.Element
					for j := range kids {
						kids[j] = lb.TopLevels[l-1][i*poseidon.Arity+j].Element
					}
					lb.TopLevels[l][i] = poseidon.Element{Element: h.Node(&kids)}
				}
			}
			lb.Root = lb.TopLevels[len(lb.TopLevels)-1][0]
			st := &m.Statement
			st.LC = poseidon.Element{Element: batch.LCPreimage{
				Epoch: st.SnapshotEpoch, SnapshotTime: st.SnapshotTime, Height: lb.Height, Batches: lb.Batches,
				Depth: lb.Depth, Root: lb.Root.Element, AccFinal: lb.AccFinal.Element, AssetsHash: lb.AssetsHash.Element,
			}.Hash(h)}
			words, err := verifier.StatementInputs(st, m.Assets.Len())
			if err != nil {
				t.Fatal(err)
			}
			for i := range words {
				st.PublicInputs[i] = poseidon.Element{Element: words[i]}
			}
			writeManifest(t, dir, m)
			ok, rep, err := accepted(t, dir, fx.Pins)
			if ok || err != nil {
				t.Fatalf("accepted=%v err=%v; want a failed check", ok, err)
			}
			failedCheck(t, rep, "(L4)")
			if d := checkDetail(rep, "padding slots"); !strings.Contains(d, fmt.Sprintf("padding slot %d", slot)) {
				t.Fatalf("the L4 failure does not name padding slot %d: %q", slot, d)
			}
			// The manifest was otherwise consistent: LC opens to the forged tree.
			for _, c := range rep.Checks {
				if strings.HasPrefix(c.Name, "LC opens") && !c.OK {
					t.Fatalf("LC was recomputed, yet its check failed: %s", c.Detail)
				}
			}
		})
	}
}

// V1: keys are pinned outside the bundle. A bundle whose verifying key differs from the pin is
// rejected, also when the operator rewrote the manifest's digest to match the swapped key; a
// missing pin is rejected; pins that differ from the bundle's keys are rejected.
func TestV1_KeysNotMatchingPinsAreRejected(t *testing.T) {
	t.Run("pin differs", func(t *testing.T) {
		for _, circuit := range []string{bundle.BatchCircuit, bundle.SolvencyCircuit} {
			pins := bundle.Pins{}
			for k, v := range fx.Pins {
				pins[k] = v
			}
			pins[circuit] = strings.Repeat("ab", 32)
			ok, rep, err := accepted(t, fx.Bundle, pins)
			if ok || err != nil {
				t.Fatalf("%s: accepted=%v err=%v", circuit, ok, err)
			}
			failedCheck(t, rep, circuit+" verifying key matches its pin (V1)")
		}
	})
	t.Run("pin missing", func(t *testing.T) {
		// Pins without a circuit's key are unusable input (exit 2), not a failed check.
		for _, c := range []string{bundle.BatchCircuit, bundle.SolvencyCircuit} {
			pins := bundle.Pins{}
			for k, v := range fx.Pins {
				if k != c {
					pins[k] = v
				}
			}
			ok, _, err := accepted(t, fx.Bundle, pins)
			if ok || !errors.Is(err, verifier.ErrUnusable) || !strings.Contains(err.Error(), c+" circuit") {
				t.Fatalf("pins without %s: accepted=%v err=%v", c, ok, err)
			}
		}
	})
	t.Run("key swapped, manifest rewritten to match", func(t *testing.T) {
		bk, err := fx.Keys.Get(bundle.BatchCircuit)
		if err != nil {
			t.Fatal(err)
		}
		// Another setup of the same circuit: a key whose toxic waste the operator knows.
		_, vk, err := groth16.Setup(bk.CCS)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := vk.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		dir := freshBundle(t)
		if err := os.WriteFile(filepath.Join(dir, bundle.BatchVKFile), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		m := readManifest(t, dir)
		m.Keys.BatchVK = bundle.SHA256Hex(buf.Bytes())
		writeManifest(t, dir, m)
		ok, rep, err := accepted(t, dir, fx.Pins)
		if ok || err != nil {
			t.Fatalf("accepted=%v err=%v", ok, err)
		}
		failedCheck(t, rep, "batch verifying key matches its pin (V1)")
		// With the operator's own digests as "pins" the swapped key is accepted as a key, which is
		// exactly why pins must come from outside the bundle; the proofs still fail under it.
		self := bundle.Pins{bundle.BatchCircuit: m.Keys.BatchVK, bundle.SolvencyCircuit: m.Keys.SolvencyVK}
		if ok, _, _ := accepted(t, dir, self); ok {
			t.Fatal("proofs made under the real key verify under the swapped key")
		}
	})
}

// V3: field elements in the manifest are parsed canonically: a value >= p, uppercase hex, a
// missing prefix or a wrong length make the bundle unusable (exit 2), never reduced mod p.
func TestV3_NonCanonicalManifestIsUnusable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(fx.Bundle, bundle.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, fx.Bundle)
	lc := poseidon.Hex(m.Statement.LC.Element)
	p := fr.Modulus()
	pPlus := new(big.Int).Add(p, new(big.Int).SetBytes(m.Statement.LC.Element.Marshal()))
	hex64 := func(v *big.Int) string { return fmt.Sprintf("0x%064x", v) }
	variants := map[string]string{
		"the modulus p":              hex64(p),
		"LC + p (reduces to LC)":     hex64(pPlus),
		"2^256 - 1":                  "0x" + strings.Repeat("f", 64),
		"uppercase hex":              "0x" + strings.ToUpper(lc[2:]),
		"uppercase prefix":           "0X" + lc[2:],
		"no prefix":                  lc[2:],
		"63 digits":                  "0x" + lc[3:],
		"65 digits":                  "0x0" + lc[2:],
		"decimal":                    new(big.Int).SetBytes(m.Statement.LC.Element.Marshal()).String(),
		"number instead of a string": "",
	}
	if pPlus.BitLen() > 256 {
		t.Fatal("LC + p does not fit 256 bits")
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			var mut []byte
			if v == "" {
				mut = bytes.Replace(raw, []byte(`"`+lc+`"`), []byte("12345"), 1)
			} else {
				mut = bytes.Replace(raw, []byte(`"`+lc+`"`), []byte(`"`+v+`"`), 1)
			}
			if bytes.Equal(mut, raw) {
				t.Fatal("LC not found in the manifest")
			}
			dir := freshBundle(t)
			if err := os.WriteFile(filepath.Join(dir, bundle.ManifestFile), mut, 0o644); err != nil {
				t.Fatal(err)
			}
			ok, rep, err := accepted(t, dir, fx.Pins)
			if ok {
				t.Fatal("accepted")
			}
			if !errors.Is(err, verifier.ErrUnusable) {
				t.Fatalf("want ErrUnusable, got err=%v report=%+v", err, rep)
			}
		})
	}
	// Other unusable manifests: a negative integer is never cast into a uint, unknown fields and
	// trailing data are refused.
	for name, edit := range map[string]func([]byte) []byte{
		"negative cycle": func(b []byte) []byte { return regexp.MustCompile(`"cycle": \d+`).ReplaceAll(b, []byte(`"cycle": -1`)) },
		"unknown field": func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"version"`), []byte(`"extra": 1, "version"`), 1)
		},
		"trailing data":   func(b []byte) []byte { return append(bytes.Clone(b), []byte("{}")...) },
		"not JSON at all": func([]byte) []byte { return []byte("garbage\x00\xff") },
	} {
		t.Run(name, func(t *testing.T) {
			mut := edit(raw)
			if bytes.Equal(mut, raw) {
				t.Fatal("edit did nothing")
			}
			dir := freshBundle(t)
			if err := os.WriteFile(filepath.Join(dir, bundle.ManifestFile), mut, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := verifier.VerifyBundle(dir, fx.Pins, verifier.Options{}); !errors.Is(err, verifier.ErrUnusable) {
				t.Fatalf("want ErrUnusable, got %v", err)
			}
		})
	}
}

// V4 (verifier side): verification reads nothing but the bundle and the pins: it succeeds on a
// copy of the bundle alone, far from any private file.
func TestV4_VerifiesWithoutPrivateStore(t *testing.T) {
	dir := freshBundle(t)
	if ok, rep, err := accepted(t, dir, fx.Pins); !ok {
		t.Fatalf("copy of the bundle alone rejected: %v %+v", err, rep)
	}
}
