package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/prover/toycircuits"
)

func devKeys(t *testing.T, p profile.Profile) string {
	t.Helper()
	cc, err := circuitcache.Cache{}.GetAll(toycircuits.Specs(), p)
	if err != nil {
		t.Fatal(err)
	}
	circuits, err := DevSetup(cc, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "keys")
	if err := Save(dir, DevMetadata(p), circuits, false); err != nil {
		t.Fatal(err)
	}
	return dir
}

func testProfile(t *testing.T) profile.Profile {
	p, err := profile.Lookup("test")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSaveLoadProve(t *testing.T) {
	p := testProfile(t)
	dir := devKeys(t, p)
	k, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k.Meta.Trust != TrustDev || k.Meta.Warning != DevWarning || k.Meta.Profile != p {
		t.Fatalf("metadata %+v", k.Meta)
	}
	if !strings.Contains(k.Meta.TrustLine(), "NOT fit for production") {
		t.Fatal("dev keys' trust line does not say so")
	}
	for name, c := range k.Circuits {
		a, _ := toycircuits.Assignment(name, p)
		w, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
		if err != nil {
			t.Fatal(err)
		}
		proof, err := groth16.Prove(c.CCS, c.PK, w)
		if err != nil {
			t.Fatalf("prove %s with loaded keys: %v", name, err)
		}
		pub, _ := w.Public()
		if err := groth16.Verify(proof, c.VK, pub); err != nil {
			t.Fatalf("verify %s: %v", name, err)
		}
	}
	if err := Save(dir, DevMetadata(p), nil, false); err == nil {
		t.Fatal("save without circuits accepted")
	}
}

func flip(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-len(b)/3] ^= 0x04
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedFilesRejected(t *testing.T) {
	p := testProfile(t)
	for _, f := range []string{"toybatch.pk", "toybatch.vk", "toysolvency.r1cs", "toysolvency.pk"} {
		t.Run(f, func(t *testing.T) {
			dir := devKeys(t, p)
			flip(t, filepath.Join(dir, f))
			if _, err := Load(dir); err == nil {
				t.Fatalf("damaged %s loaded", f)
			} else {
				t.Logf("%s: %v", f, err)
			}
		})
	}
	t.Run("metadata", func(t *testing.T) {
		dir := devKeys(t, p)
		path := filepath.Join(dir, MetadataFile)
		var m map[string]any
		b, _ := os.ReadFile(path)
		json.Unmarshal(b, &m)
		circuits := m["circuits"].([]any)
		circuits[0].(map[string]any)["vk_file"] = "../elsewhere.vk"
		b, _ = json.Marshal(m)
		os.WriteFile(path, b, 0o644)
		if _, err := LoadVerifying(dir); err == nil {
			t.Fatal("a file outside the keys directory accepted")
		}
		m["trust"] = "trust-me"
		circuits[0].(map[string]any)["vk_file"] = "toybatch.vk"
		b, _ = json.Marshal(m)
		os.WriteFile(path, b, 0o644)
		if _, err := LoadVerifying(dir); err == nil {
			t.Fatal("unknown trust accepted")
		}
	})
}

func TestV3_VerifyingKeyCheckedAndCanonical(t *testing.T) {
	p := testProfile(t)
	dir := devKeys(t, p)
	good, err := os.ReadFile(filepath.Join(dir, "toybatch.vk"))
	if err != nil {
		t.Fatal(err)
	}
	vk, digest, err := ReadVerifyingKey(good)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := VKDigest(vk); d != digest {
		t.Fatal("digest of the parsed key differs from the digest of its bytes")
	}
	if _, _, err := ReadVerifyingKey(append(append([]byte{}, good...), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	var raw bytes.Buffer
	if _, err := vk.WriteRawTo(&raw); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadVerifyingKey(raw.Bytes()); err == nil {
		t.Fatal("uncompressed (non-canonical) encoding accepted")
	}
	// [α]₁ is the first 32 bytes. Every x on BN254's G1 curve is in the subgroup, so a flipped bit
	// can land on another valid point; an x-coordinate >= p is always refused (never reduced).
	bad := append([]byte{}, good...)
	bad[0] |= 0x3f
	for i := 1; i < 32; i++ {
		bad[i] = 0xff
	}
	if _, _, err := ReadVerifyingKey(bad); err == nil {
		t.Fatal("non-canonical coordinate accepted")
	}
}

func TestPins(t *testing.T) {
	p := testProfile(t)
	a, err := LoadVerifying(devKeys(t, p))
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadVerifying(devKeys(t, p))
	if err != nil {
		t.Fatal(err)
	}
	pins := PinsOf(a)
	if err := pins.CheckKeys(a); err != nil {
		t.Fatal(err)
	}
	if err := pins.CheckKeys(b); err == nil {
		t.Fatal("keys of another setup match the pins")
	}
	path := filepath.Join(t.TempDir(), "digests.json")
	j, _ := json.Marshal(pins)
	os.WriteFile(path, j, 0o644)
	read, err := ReadPins(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := read.CheckKeys(a); err != nil {
		t.Fatal(err)
	}
	delete(read.VerifyingKeys, "toysolvency")
	if err := read.CheckKeys(a); err == nil {
		t.Fatal("an unpinned circuit passed")
	}
	os.WriteFile(path, []byte(`{"verifying_keys":{"x":"00"},"extra":1}`), 0o644)
	if _, err := ReadPins(path); err == nil {
		t.Fatal("malformed pins accepted")
	}
}

// TestMeasureKeyLoad compares proving-key load paths on a larger circuit. Set
// SOLVENCY_MEASURE=1 to run it (it takes a minute).
func TestMeasureKeyLoad(t *testing.T) {
	if os.Getenv("SOLVENCY_MEASURE") == "" {
		t.Skip("set SOLVENCY_MEASURE=1 to measure")
	}
	p := testProfile(t)
	p.Name, p.BatchHeight, p.Assets = "measure", 3, 16 // 8192 range-checked balances
	start := time.Now()
	cc, err := circuitcache.Cache{}.Get(toycircuits.Specs()[0], p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compile: %d constraints in %s", cc.CCS.GetNbConstraints(), time.Since(start))
	start = time.Now()
	pk, vk, err := groth16.Setup(cc.CCS)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("groth16.Setup: %s", time.Since(start))
	dir := t.TempDir()
	for _, format := range []string{PKDump, PKRaw, "checked"} {
		path := filepath.Join(dir, format)
		var buf bytes.Buffer
		start = time.Now()
		if format == "checked" {
			_, err = pk.WriteTo(&buf)
		} else {
			err = writePK(&buf, pk, format)
		}
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, buf.Bytes(), 0o644)
		write := time.Since(start)
		start = time.Now()
		pk2 := groth16.NewProvingKey(ecc.BN254)
		f, _ := os.Open(path)
		switch format {
		case "checked":
			_, err = pk2.ReadFrom(f)
		default:
			info := CircuitInfo{Name: "m", PKFormat: format, PKArch: runtime.GOARCH, PKFile: format, PKDigest: digestBytes(buf.Bytes())}
			_, err = loadPK(dir, info) // includes the sha256 of the file
		}
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("proving key %-10s %6.1f MB  write %s  load %s", format, float64(buf.Len())/1e6, write.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	}
	var vb bytes.Buffer
	vk.WriteTo(&vb)
	start = time.Now()
	if _, _, err := ReadVerifyingKey(vb.Bytes()); err != nil {
		t.Fatal(err)
	}
	t.Logf("verifying key %d bytes, checked load %s", vb.Len(), time.Since(start))
}

func digestBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// FuzzReadVerifyingKey: the checked reader may refuse input but must not panic, and whatever it
// accepts must re-encode to exactly the input (one key, one encoding, one digest).
func FuzzReadVerifyingKey(f *testing.F) {
	p, err := profile.Lookup("test")
	if err != nil {
		f.Fatal(err)
	}
	cc, err := circuitcache.Cache{}.GetAll(toycircuits.Specs(), p)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cc {
		_, vk, err := groth16.Setup(c.CCS)
		if err != nil {
			f.Fatal(err)
		}
		var b bytes.Buffer
		vk.WriteTo(&b)
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vk, digest, err := ReadVerifyingKey(data)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if _, err := vk.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), data) || digest != digestBytes(data) {
			t.Fatal("accepted a non-canonical encoding")
		}
	})
}

// V3/V8: a pins file is read strictly (a digest given twice is refused, not "last one wins")
// and as a regular file within its limit.
func TestV3_PinsDuplicateKeyRefused(t *testing.T) {
	dir := t.TempDir()
	d := strings.Repeat("0", 64)
	for name, c := range map[string]struct{ doc, want string }{
		"digest twice":     {`{"verifying_keys": {"batch": "` + d + `", "batch": "` + strings.Repeat("1", 64) + `"}}`, `key "verifying_keys.batch": duplicate key`},
		"case variant":     {`{"verifying_keys": {"batch": "` + d + `"}, "Verifying_keys": {}}`, `only in case`},
		"trailing garbage": {`{"verifying_keys": {"batch": "` + d + `"}} garbage`, `trailing data`},
		"null":             {`null`, `the document is null`},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(path, []byte(c.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPins(path); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path+":1:") {
			t.Errorf("%s: want %q at %s:1, got %v", name, c.want, path, err)
		}
	}
	link := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPins(link); err == nil || !strings.Contains(err.Error(), "is a device") {
		t.Errorf("link to /dev/zero: %v", err)
	}
}
