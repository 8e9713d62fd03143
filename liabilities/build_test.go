package liabilities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// testAccounts makes n accounts with large, distinct balances (at least 10 digits, so that a
// scan of the public files cannot find one by coincidence) and some zeros.
func testAccounts(n, assets int, seed uint64) []Account {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]Account, n)
	for i := range out {
		b := make([]uint64, assets)
		for a := range b {
			if rng.IntN(4) > 0 {
				b[a] = 1_000_000_000 + rng.Uint64N(1<<40)
			}
		}
		out[i] = Account{ID: fmt.Sprintf("acct-%05d", i), Balances: b}
	}
	return out
}

// buildDir builds accounts at batch height h into a fresh directory and opens it.
func buildDir(t *testing.T, accounts []Account, h int) (*Snapshot, *Store, string) {
	t.Helper()
	tab := testTable(t)
	s, err := Build(context.Background(), tab, accounts, BuildOptions{Epoch: 7, SnapshotTime: 1_764_000_000, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := s.Write(dir, nil); err != nil {
		t.Fatal(err)
	}
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return s, st, dir
}

// TestBuildProofVerifyRoundTrip: every account's proof verifies against the root, carries its
// balances, and the tree's shape is as design.md says (13 batches of 8: top height 2, D = 3).
func TestBuildProofVerifyRoundTrip(t *testing.T) {
	accts := testAccounts(100, 3, 1)
	s, st, _ := buildDir(t, accts, 1)
	pub := st.Public()
	if pub.Batches != 13 || pub.BatchSize != 8 || pub.TopHeight != 2 || pub.Depth != 3 {
		t.Fatalf("shape n=%d B=%d ht=%d D=%d", pub.Batches, pub.BatchSize, pub.TopHeight, pub.Depth)
	}
	if st.Accounts() != 100 || s.Accounts != 100 {
		t.Fatalf("%d accounts", st.Accounts())
	}
	root := pub.Root.Fr()
	for _, a := range accts {
		p, err := st.Proof(a.ID)
		if err != nil {
			t.Fatalf("%s: %v", a.ID, err)
		}
		if err := VerifyInclusion(p, root); err != nil {
			t.Fatalf("%s: %v", a.ID, err)
		}
		for i, b := range p.Balances {
			if uint64(b.Units) != a.Balances[i] {
				t.Fatalf("%s: slot %d holds %d, want %d", a.ID, i, b.Units, a.Balances[i])
			}
		}
		// The file survives a JSON round trip and still verifies.
		raw, _ := json.Marshal(p)
		q, err := ParseInclusionProof(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyInclusion(q, root); err != nil {
			t.Fatalf("%s after JSON: %v", a.ID, err)
		}
	}
	if _, err := st.Proof("nobody"); err == nil {
		t.Fatal("a proof for an unknown account")
	}
}

// TestBatchInputsReproduceTheBuild: what the prover reads per batch, fed to batch.Compute, gives
// the stored root, commitments and digest, and the chain links from ACC0 to accFinal (L1, L3).
func TestBatchInputsReproduceTheBuild(t *testing.T) {
	accts := testAccounts(150, 3, 2)
	_, st, dir := buildDir(t, accts, 1)
	pub := st.Public()
	h := poseidon.NewHasher()
	prev := batch.ACC0(h, pub.Epoch, 3)
	total := make([]*big.Int, 3)
	for a := range total {
		total[a] = new(big.Int)
		for _, acc := range accts {
			total[a].Add(total[a], new(big.Int).SetUint64(acc.Balances[a]))
		}
	}
	var last *BatchInput
	for i := range pub.Batches {
		in, err := st.Batch(i)
		if err != nil {
			t.Fatal(err)
		}
		res, err := batch.Compute(h, in.Shape, in.Epoch, in.Index, in.IDHashes, in.Balances, in.Before, in.AfterSalt)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if !res.Root.Equal(&in.Root) || !res.Before.Equal(&in.AccBefore) || !res.After.Equal(&in.AccAfter) || !res.Digest.Equal(&in.Digest) {
			t.Fatalf("batch %d: recomputed outputs differ from the stored ones", i)
		}
		if !in.AccBefore.Equal(&prev) {
			t.Fatalf("batch %d does not start where the previous ended", i)
		}
		for a := range in.AfterSums {
			if in.AfterSums[a].Cmp(res.AfterOpening.Sums[a]) != 0 {
				t.Fatalf("batch %d: stored after sums differ", i)
			}
		}
		if !pub.TopTree[0][i].Equal(in.Root) {
			t.Fatalf("batch %d root is not top tree slot %d", i, i)
		}
		prev = in.AccAfter
		last = in
	}
	if !pub.AccFinal.Equal(prev) {
		t.Fatal("the last batch's commitment is not acc_final")
	}
	for a := range total {
		if last.AfterSums[a].Cmp(total[a]) != 0 {
			t.Fatalf("final running sum %d = %s, want the total %s", a, last.AfterSums[a], total[a])
		}
	}
	if in, err := OpenBatch(dir, 0); err != nil || !in.Before.Salt.IsZero() {
		t.Fatalf("OpenBatch(0): %v; batch 0 must open ACC0 with salt 0 (L1)", err)
	}
	if _, err := st.Batch(pub.Batches); err == nil {
		t.Fatal("batch n accepted")
	}
}

// proofFixture returns a verified proof and its root, from an account in the last batch so that
// the top-level path crosses padding slots.
func proofFixture(t *testing.T) (*InclusionProof, fr.Element) {
	t.Helper()
	accts := testAccounts(60, 3, 3) // h=1: 8 batches would be 64 slots; 60 accounts fill 8 batches
	_, st, _ := buildDir(t, accts, 1)
	for _, a := range accts {
		p, err := st.Proof(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.LeafIndex/8 == uint64(st.Public().Batches-1) {
			return p, st.Public().Root.Fr()
		}
	}
	p, err := st.Proof(accts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return p, st.Public().Root.Fr()
}

func cloneProof(t *testing.T, p *InclusionProof) *InclusionProof {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseInclusionProof(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func mustReject(t *testing.T, p *InclusionProof, root fr.Element, mentioning string) {
	t.Helper()
	err := VerifyInclusion(p, root)
	if err == nil {
		t.Fatal("a tampered proof verified")
	}
	if !strings.Contains(err.Error(), mentioning) {
		t.Fatalf("error %q does not mention %q", err, mentioning)
	}
}

// TestL7_ExtraSiblingRejected: a path of D+1 levels (and of D-1) is refused, even when the extra
// level hashes to a node the attacker controls.
func TestL7_ExtraSiblingRejected(t *testing.T) {
	p, root := proofFixture(t)
	q := cloneProof(t, p)
	q.Path = append(q.Path, q.Path[len(q.Path)-1])
	mustReject(t, q, root, "levels")
	q = cloneProof(t, p)
	q.Path = q.Path[:len(q.Path)-1]
	mustReject(t, q, root, "levels")
	q = cloneProof(t, p)
	q.Path[0] = append(q.Path[0], q.Path[0][0])
	mustReject(t, q, root, "siblings")
}

// TestL7_IndexOutOfRangeRejected: an index >= n*B is refused (it would point into a padding
// subtree above the batches), and so is an index with digits beyond the depth.
func TestL7_IndexOutOfRangeRejected(t *testing.T) {
	p, root := proofFixture(t)
	q := cloneProof(t, p)
	q.LeafIndex = uint64(q.Snapshot.Batches * q.Snapshot.BatchSize)
	mustReject(t, q, root, "not below n*B")
	q.LeafIndex = p.LeafIndex + 1<<(3*uint(q.Snapshot.Depth)) // same low digits, one more level
	mustReject(t, q, root, "not below n*B")
}

// TestL7_FlippedDirectionRejected: moving the leaf to another child position at any level (the
// same siblings, another index) does not verify.
func TestL7_FlippedDirectionRejected(t *testing.T) {
	p, root := proofFixture(t)
	limit := uint64(p.Snapshot.Batches * p.Snapshot.BatchSize)
	tried := 0
	for l := range p.Snapshot.Depth {
		digit := p.LeafIndex >> (3 * uint(l)) & 7
		for d := range uint64(8) {
			if d == digit {
				continue
			}
			q := cloneProof(t, p)
			q.LeafIndex = p.LeafIndex - digit<<(3*uint(l)) + d<<(3*uint(l))
			if q.LeafIndex >= limit {
				continue
			}
			tried++
			mustReject(t, q, root, "do not lead to the root")
		}
	}
	if tried == 0 {
		t.Fatal("no direction tried")
	}
}

// TestInclusionRejectsTampering: any changed balance, amount, sibling, id, salt, root, LC field
// or asset table is refused.
func TestInclusionRejectsTampering(t *testing.T) {
	p, root := proofFixture(t)
	if err := VerifyInclusion(p, root); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(q *InclusionProof){
		"units": func(q *InclusionProof) {
			q.Balances[1].Units++
			q.Balances[1].Amount = mustFormat(q, 1)
		},
		"amount only": func(q *InclusionProof) { q.Balances[0].Amount = "999" },
		"sibling":     func(q *InclusionProof) { q.Path[1][3] = Hex(poseidon.Uint64(5)) },
		"top sibling": func(q *InclusionProof) { q.Path[len(q.Path)-1][6] = Hex(poseidon.Uint64(5)) },
		"id":          func(q *InclusionProof) { q.AccountID += "x" },
		"salt":        func(q *InclusionProof) { q.Salt = Hex(poseidon.Uint64(1)) },
		"epoch":       func(q *InclusionProof) { q.Snapshot.Epoch++ },
		"batches":     func(q *InclusionProof) { q.Snapshot.Batches++ },
		"acc_final":   func(q *InclusionProof) { q.Snapshot.AccFinal = Hex(poseidon.Uint64(1)) },
		"root":        func(q *InclusionProof) { q.Snapshot.Root = Hex(poseidon.Uint64(1)) },
		"swap assets": func(q *InclusionProof) {
			q.Snapshot.Assets[0], q.Snapshot.Assets[1] = q.Snapshot.Assets[1], q.Snapshot.Assets[0]
		},
		"symbol": func(q *InclusionProof) { q.Balances[2].Symbol = "ETH" },
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			q := cloneProof(t, p)
			tamper(q)
			if err := VerifyInclusion(q, root); err == nil {
				t.Fatal("tampered proof verified")
			}
		})
	}
	var other fr.Element
	other.SetUint64(99)
	mustReject(t, p, other, "not to the root you gave")
}

func mustFormat(q *InclusionProof, slot int) string {
	a := q.Snapshot.Assets[slot]
	return strings.TrimSpace(formatUnits(uint64(q.Balances[slot].Units), a.Precision))
}

func formatUnits(v uint64, prec uint8) string {
	s := strconv.FormatUint(v, 10)
	if prec == 0 {
		return s
	}
	for len(s) <= int(prec) {
		s = "0" + s
	}
	return s[:len(s)-int(prec)] + "." + s[len(s)-int(prec):]
}

func TestInclusionUserChecks(t *testing.T) {
	p, _ := proofFixture(t)
	if err := p.CheckAccount(p.AccountID); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckAccount(p.AccountID + " "); err == nil {
		t.Fatal("another id accepted")
	}
	b := p.Balances[0]
	if err := p.CheckBalance(b.Symbol, b.Amount); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckBalance(b.Symbol, formatUnits(uint64(b.Units)+1, p.Snapshot.Assets[0].Precision)); err == nil {
		t.Fatal("a different expected balance accepted")
	}
	if err := p.CheckBalance("DOGE", "1"); err == nil {
		t.Fatal("unknown symbol accepted")
	}
	if err := p.CheckLC(p.Snapshot.LC.Fr()); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckLC(p.Snapshot.Root.Fr()); err == nil {
		t.Fatal("wrong LC accepted")
	}
}

func TestParseInclusionProofMalformed(t *testing.T) {
	p, _ := proofFixture(t)
	raw, _ := json.Marshal(p)
	bad := map[string]string{
		"not json":       "{",
		"unknown field":  strings.Replace(string(raw), `"version"`, `"extra":1,"version"`, 1),
		"trailing":       string(raw) + "{}",
		"kind":           strings.Replace(string(raw), KindInclusionProof, "other", 1),
		"salt >= p":      strings.Replace(string(raw), poseidon.Hex(p.Salt.Fr()), "0x"+strings.Repeat("f", 64), 1),
		"salt uppercase": strings.Replace(string(raw), poseidon.Hex(p.Salt.Fr()), strings.ToUpper(poseidon.Hex(p.Salt.Fr())), 1),
		"units number":   strings.Replace(string(raw), `"units":"`, `"units":1,"x":"`, 1),
		"units sign":     strings.Replace(string(raw), `"units":"`, `"units":"-`, 1),
	}
	for name, in := range bad {
		if _, err := ParseInclusionProof(strings.NewReader(in)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// TestL4_TopPaddingIsEmptyConstant: slots at or past n above the batches hold EMPTY_h (a proof
// from the last batch shows it), and the public check refuses a top tree whose padding slot
// holds anything else, even when root and LC are recomputed to match.
func TestL4_TopPaddingIsEmptyConstant(t *testing.T) {
	accts := testAccounts(20, 3, 4) // h=1: 3 batches in a top tree of 8 slots
	s, st, _ := buildDir(t, accts, 1)
	h := poseidon.NewHasher()
	empty := batch.EmptyRoots(h, 3)
	pub := st.Public()
	if pub.Batches != 3 || pub.TopHeight != 1 {
		t.Fatalf("n=%d ht=%d", pub.Batches, pub.TopHeight)
	}
	// The root is Node(batch roots, EMPTY_1 x 5).
	var ch [8]fr.Element
	for i := range ch {
		ch[i] = empty[1]
		if i < 3 {
			ch[i] = pub.TopTree[0][i].Fr()
		}
	}
	if r := h.Node(&ch); !pub.Root.Equal(r) {
		t.Fatal("root is not the node of the batch roots and EMPTY_h constants")
	}
	for _, a := range accts {
		p, err := st.Proof(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		top := p.Path[len(p.Path)-1]
		own := int(p.LeafIndex / 8)
		for c, k := 0, 0; c < 8; c++ {
			if c == own {
				continue
			}
			if c >= 3 && !top[k].Equal(empty[1]) {
				t.Fatalf("top sibling at slot %d is not EMPTY_1", c)
			}
			k++
		}
	}
	// An operator who hides a subtree of real accounts in slot 3 (instead of EMPTY_1) and
	// republishes a consistent root and LC is caught by the public check.
	forged := s.Public()
	var hidden fr.Element
	hidden.SetUint64(12345)
	ch[3] = hidden
	forged.Root = Hex(h.Node(&ch))
	forged.TopTree[1][0] = forged.Root
	pre := forged.Preimage()
	forged.LC = Hex(pre.Hash(h))
	if err := forged.Check(h); err == nil {
		t.Fatal("a top tree with a non-constant padding slot passed the check")
	}
	if err := s.Public().Check(h); err != nil {
		t.Fatalf("honest public file: %v", err)
	}
}

// TestL9_OrderIsSecretShuffle: two builds of the same accounts place them differently, and
// neither keeps the input order.
func TestL9_OrderIsSecretShuffle(t *testing.T) {
	accts := testAccounts(200, 3, 5)
	tab := testTable(t)
	order := func() []string {
		s, err := Build(context.Background(), tab, accts, BuildOptions{Height: 1})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, sl := range s.slots {
			if !sl.padding {
				ids = append(ids, sl.id)
			}
		}
		return ids
	}
	a, b := order(), order()
	inOrder := func(ids []string) int {
		same := 0
		for i, id := range ids {
			if id == accts[i].ID {
				same++
			}
		}
		return same
	}
	if inOrder(a) > 20 || inOrder(b) > 20 {
		t.Fatalf("%d and %d of 200 accounts kept their input position", inOrder(a), inOrder(b))
	}
	if strings.Join(a, ",") == strings.Join(b, ",") {
		t.Fatal("two builds gave the same leaf order")
	}
}

// TestL5_PaddingIsOrdinaryZeroAccount: padding slots carry zero balances under random,
// distinct ids and salts that no real account can have, and hash like any account.
func TestL5_PaddingIsOrdinaryZeroAccount(t *testing.T) {
	accts := testAccounts(10, 3, 6)
	s, _, _ := buildDir(t, accts, 1) // 2 batches of 8: 6 padding slots
	h := poseidon.NewHasher()
	seenID, seenSalt := map[string]bool{}, map[fr.Element]bool{}
	pads := 0
	for _, sl := range s.slots {
		if seenID[sl.id] || seenSalt[sl.salt] {
			t.Fatal("repeated id or salt")
		}
		seenID[sl.id], seenSalt[sl.salt] = true, true
		want, err := batch.IDHash(h, []byte(sl.id), sl.salt)
		if err != nil || !want.Equal(&sl.idHash) {
			t.Fatal("idHash is not IDHash(id, salt)")
		}
		if !sl.padding {
			continue
		}
		pads++
		if CheckID(sl.id) == nil {
			t.Fatalf("padding id %q could be a real account's", sl.id)
		}
		for _, v := range sl.balances {
			if v != 0 {
				t.Fatal("padding with a balance")
			}
		}
	}
	if pads != 6 {
		t.Fatalf("%d padding slots, want 6", pads)
	}
}

// TestV4_PublicOutputHasNoPrivateData scans every public file for every account id, salt,
// idHash, leaf, per-account balance and per-batch running sum, in the forms they are written.
func TestV4_PublicOutputHasNoPrivateData(t *testing.T) {
	accts := testAccounts(300, 3, 7)
	s, st, dir := buildDir(t, accts, 1)
	var public []byte
	err := filepath.Walk(filepath.Join(dir, PublicDir), func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		public = append(public, b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(public) == 0 {
		t.Fatal("no public output")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != PublicDir && e.Name() != PrivateDir {
			t.Errorf("unexpected %s at the top of the snapshot directory", e.Name())
		}
	}
	var secrets []string
	for _, sl := range s.slots {
		secrets = append(secrets, sl.id, poseidon.Hex(sl.salt), poseidon.Hex(sl.idHash))
		for a, v := range sl.balances {
			if v != 0 {
				secrets = append(secrets, strconv.FormatUint(v, 10), formatUnits(v, s.Table.Assets[a].Precision))
			}
		}
	}
	for b := range st.Public().Batches {
		in, err := st.Batch(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range append(in.Before.Sums, in.AfterSums...) {
			if v.Sign() != 0 {
				secrets = append(secrets, v.String())
			}
		}
		for _, l := range s.batches[b].res.Leaves {
			secrets = append(secrets, poseidon.Hex(l))
		}
		secrets = append(secrets, poseidon.Hex(in.AfterSalt), poseidon.Hex(in.AccBefore))
	}
	for _, sec := range secrets {
		if bytes.Contains(public, []byte(sec)) {
			t.Fatalf("the public output contains the private value %q", sec)
		}
	}
}

func TestOpenRefusesMismatchedOrCorruptStore(t *testing.T) {
	accts := testAccounts(30, 3, 8)
	_, st, dir := buildDir(t, accts, 1)
	st.Close()
	// Truncate the leaves file: Open names it.
	path := filepath.Join(dir, LeavesBin)
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, raw[:len(raw)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "leaves.bin") {
		t.Fatalf("truncated store opened: %v", err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	// Flip a leaf: the proof for an account of that batch is refused, not served.
	raw2 := append([]byte(nil), raw...)
	raw2[headerSize+5] ^= 1
	if err := os.WriteFile(path, raw2, 0o600); err != nil {
		t.Fatal(err)
	}
	st2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	failed := false
	for _, a := range accts {
		if _, err := st2.Proof(a.ID); err != nil {
			failed = true
		}
	}
	if !failed {
		t.Fatal("a corrupted leaf went unnoticed")
	}
}

func TestBuildRejectsBadAccounts(t *testing.T) {
	tab := testTable(t)
	for name, accts := range map[string][]Account{
		"none":      nil,
		"duplicate": {{ID: "a", Balances: []uint64{1, 2, 3}}, {ID: "a", Balances: []uint64{1, 2, 3}}},
		"bad id":    {{ID: "\x00a", Balances: []uint64{1, 2, 3}}},
		"balances":  {{ID: "a", Balances: []uint64{1, 2}}},
	} {
		if _, err := Build(context.Background(), tab, accts, BuildOptions{Height: 1}); err == nil {
			t.Errorf("%s: built", name)
		}
	}
	if _, err := Build(context.Background(), tab, testAccounts(3, 3, 1), BuildOptions{Height: 1, SnapshotTime: 1 << 40}); err == nil {
		t.Error("snapshot time past 40 bits accepted")
	}
	if _, err := Build(context.Background(), tab, testAccounts(3, 3, 1), BuildOptions{Height: 7}); err == nil {
		t.Error("batch height 7 accepted")
	}
}

// FuzzParseInclusionProof: reading and checking an arbitrary proof file never panics or hangs,
// and a file that verifies still names the seed's account and balances.
func FuzzParseInclusionProof(f *testing.F) {
	accts := testAccounts(20, 3, 11)
	tab := testTable(f)
	s, err := Build(context.Background(), tab, accts, BuildOptions{Height: 1})
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	if err := s.Write(dir, nil); err != nil {
		f.Fatal(err)
	}
	st, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	p, err := st.Proof(accts[0].ID)
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := json.Marshal(p)
	f.Add(raw)
	f.Add([]byte(strings.Replace(string(raw), `"batches":3`, `"batches":4611686018427387904`, 1)))
	f.Add([]byte(strings.Replace(string(raw), `"batch_height":1`, `"batch_height":40`, 1)))
	root := s.LC.Root
	f.Fuzz(func(t *testing.T, in []byte) {
		q, err := ParseInclusionProof(bytes.NewReader(in))
		if err != nil {
			return
		}
		_ = q.CheckBalance("ETH", "1")
		if VerifyInclusion(q, root) == nil {
			if q.AccountID != p.AccountID || q.LeafIndex != p.LeafIndex {
				t.Fatalf("a different account or index verified: %q at %d", q.AccountID, q.LeafIndex)
			}
			for i := range q.Balances {
				if q.Balances[i].Units != p.Balances[i].Units {
					t.Fatal("different balances verified")
				}
			}
		}
	})
}

func TestWriteDirIsAllOrNothing(t *testing.T) {
	accts := testAccounts(10, 3, 12)
	s, err := Build(context.Background(), testTable(t), accts, BuildOptions{Height: 1})
	if err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	out := filepath.Join(parent, "snap")
	var stages []string
	if err := s.WriteDir(out, false, func(stage string, done, total int) {
		if done == 0 {
			stages = append(stages, stage)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(stages) != 1 || stages[0] != StageWrite {
		t.Errorf("progress stages %v", stages)
	}
	if err := s.WriteDir(out, false, nil); err == nil {
		t.Fatal("an existing snapshot was overwritten without replace")
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Fatalf("%d entries beside the snapshot: a temporary directory was left", len(entries))
	}
	if _, err := Open(out); err != nil {
		t.Fatal(err)
	}
}

// TestLookupSurvivesKeyCollisions: index keys are truncated hashes; when many entries share the
// key, the id stored in each record decides.
func TestLookupSurvivesKeyCollisions(t *testing.T) {
	accts := testAccounts(40, 3, 13)
	_, st, dir := buildDir(t, accts, 1)
	target := accts[17].ID
	want, err := st.Lookup(target)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	path := filepath.Join(dir, IndexBin)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(target))
	entries := raw[headerSize:]
	for off := 0; off < len(entries); off += indexEntry {
		copy(entries[off:off+8], sum[:8]) // every entry now has the target's key
	}
	// Keep the file sorted: equal keys, ordered by leaf index (big-endian bytes).
	recs := make([][indexEntry]byte, len(entries)/indexEntry)
	for i := range recs {
		copy(recs[i][:], entries[i*indexEntry:])
	}
	slices.SortFunc(recs, func(a, b [indexEntry]byte) int { return bytes.Compare(a[:], b[:]) })
	for i := range recs {
		copy(entries[i*indexEntry:], recs[i][:])
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	st2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	got, err := st2.Lookup(target)
	if err != nil || got != want {
		t.Fatalf("Lookup(%q) = %d, %v; want %d", target, got, err, want)
	}
	if _, err := st2.Lookup(accts[3].ID); err == nil {
		t.Fatal("an account whose key is gone was found")
	}
}

// TestOpenOrBuildCompleteOrNone: a build interrupted while the snapshot is written leaves no
// snapshot (the next call builds it), a complete one is opened and not built again.
func TestOpenOrBuildCompleteOrNone(t *testing.T) {
	tab := testTable(t)
	dir := filepath.Join(t.TempDir(), "liabilities")
	builds := 0
	build := func() (*Snapshot, error) {
		builds++
		return Build(context.Background(), tab, testAccounts(10, tab.Len(), 3), BuildOptions{Epoch: 1, SnapshotTime: 1_764_000_000, Height: 2})
	}
	killed := errors.New("killed while writing")
	if _, _, err := OpenOrBuild(dir, build, func(string) error { return killed }); !errors.Is(err, killed) {
		t.Fatalf("err = %v", err)
	}
	if Exists(dir) {
		t.Fatal("an interrupted write left a snapshot")
	}
	st, built, err := OpenOrBuild(dir, build, nil)
	if err != nil || !built {
		t.Fatalf("build: %v (built %v)", err, built)
	}
	st.Close()
	st, built, err = OpenOrBuild(dir, build, nil)
	if err != nil || built || builds != 2 {
		t.Fatalf("reopen: %v (built %v, %d builds)", err, built, builds)
	}
	st.Close()
}
