package poseidon

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/test"
)

type hashCircuit struct {
	In   []frontend.Variable
	Out  frontend.Variable `gnark:",public"`
	Node frontend.Variable `gnark:",public"`
	tag  uint64
}

func (c *hashCircuit) Define(api frontend.API) error {
	g, err := NewGadget(api)
	if err != nil {
		return err
	}
	api.AssertIsEqual(g.Hash(c.tag, c.In...), c.Out)
	var ch [Arity]frontend.Variable
	for i := range ch {
		ch[i] = c.In[i%len(c.In)]
	}
	api.AssertIsEqual(g.Node(ch), c.Node)
	return nil
}

// TestNativeMatchesCircuit checks bit-identity of native and in-circuit hashing across block
// boundaries of the width-8 sponge (rate 7).
func TestNativeMatchesCircuit(t *testing.T) {
	h := NewHasher()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 6, 7, 8, 15} {
		in := make([]fr.Element, n)
		for i := range in {
			in[i].SetUint64(rng.Uint64())
			if i%2 == 1 {
				in[i].SetRandom()
			}
		}
		var ch [Arity]fr.Element
		for i := range ch {
			ch[i] = in[i%n]
		}
		want := h.Hash(TagLeaf, in...)
		wantNode := h.Node(&ch)
		assignment := &hashCircuit{In: make([]frontend.Variable, n), Out: want, Node: wantNode}
		for i := range in {
			assignment.In[i] = in[i]
		}
		circuit := &hashCircuit{In: make([]frontend.Variable, n), tag: TagLeaf}
		if err := test.IsSolved(circuit, assignment, ecc.BN254.ScalarField()); err != nil {
			t.Fatalf("n=%d: native hash does not satisfy the circuit: %v", n, err)
		}
		var wrong fr.Element
		wrong.Add(&want, &wantNode)
		assignment.Out = wrong
		if err := test.IsSolved(circuit, assignment, ecc.BN254.ScalarField()); err == nil {
			t.Fatalf("n=%d: wrong digest accepted", n)
		}
	}
}

// TestDomainAndLengthSeparation: same inputs under another tag, or with a trailing zero, hash
// differently (the capacity binds tag and length; the sponge has no padding to confuse).
func TestDomainAndLengthSeparation(t *testing.T) {
	h := NewHasher()
	a := h.Hash(TagLeaf, Uint64(1), Uint64(2))
	b := h.Hash(TagID, Uint64(1), Uint64(2))
	c := h.Hash(TagLeaf, Uint64(1), Uint64(2), Uint64(0))
	e := h.Hash(TagLeaf)
	if a.Equal(&b) || a.Equal(&c) || e.IsZero() {
		t.Fatal("domain or length separation failed")
	}
}

func TestParseHexCanonical(t *testing.T) {
	var x fr.Element
	x.SetRandom()
	got, err := ParseHex(Hex(x))
	if err != nil || !got.Equal(&x) {
		t.Fatalf("round trip: %v", err)
	}
	p := fr.Modulus()
	pHex := "0x" + leftPad(p.Text(16), 64)
	for _, bad := range []string{pHex, Hex(x)[2:], Hex(x) + "0", "0X" + Hex(x)[2:], "0x" + leftPad("G", 64)} {
		if _, err := ParseHex(bad); err == nil {
			t.Errorf("ParseHex(%q) accepted a non-canonical element", bad)
		}
	}
	if _, err := Big(big.NewInt(-1)); err == nil {
		t.Error("Big accepted a negative value")
	}
	if _, err := Big(p); err == nil {
		t.Error("Big accepted p")
	}
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

func TestPackLimbsRefusesOverflow(t *testing.T) {
	if _, err := PackLimbs([]*big.Int{new(big.Int).Lsh(big.NewInt(1), 96)}, 96); err == nil {
		t.Error("a 97-bit limb was packed")
	}
	if _, err := PackLimbs([]*big.Int{big.NewInt(1), big.NewInt(1), big.NewInt(1)}, 96); err == nil {
		t.Error("three 96-bit limbs were packed into one element")
	}
}

// TestConstraintCounts records what each gadget costs (R1CS), for the design's budget.
func TestConstraintCounts(t *testing.T) {
	for _, n := range []int{4, 7} {
		c := &hashCircuit{In: make([]frontend.Variable, n), tag: TagLeaf}
		cs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("width-8 hash of %d inputs + one width-12 node: %d R1CS", n, cs.GetNbConstraints())
	}
}

func BenchmarkNativeHash(b *testing.B) {
	h := NewHasher()
	in := []fr.Element{Uint64(1), Uint64(2), Uint64(3), Uint64(4)}
	for b.Loop() {
		h.Hash(TagLeaf, in...)
	}
}

func BenchmarkNativeNode(b *testing.B) {
	h := NewHasher()
	var ch [Arity]fr.Element
	for b.Loop() {
		h.Node(&ch)
	}
}

// TestV3_ElementJSONIsCanonicalHex: JSON uses the canonical hex form both ways, and a value >= p,
// a bare number or uppercase hex is refused rather than reduced.
func TestV3_ElementJSONIsCanonicalHex(t *testing.T) {
	var x Element
	x.SetUint64(42)
	b, err := json.Marshal(struct{ V Element }{x})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"V":"` + Hex(x.Element) + `"}`; string(b) != want {
		t.Fatalf("marshal = %s, want %s", b, want)
	}
	var back struct{ V Element }
	if err := json.Unmarshal(b, &back); err != nil || !back.V.Equal(&x.Element) {
		t.Fatalf("round trip: %v", err)
	}
	pHex := "0x" + leftPad(fr.Modulus().Text(16), 64)
	for _, bad := range []string{`{"V":"` + pHex + `"}`, `{"V":42}`, `{"V":"42"}`, `{"V":"` + strings.ToUpper(Hex(x.Element)) + `"}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
