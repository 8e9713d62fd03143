package statement

import (
	"math/big"
	"testing"
)

func big10(t *testing.T, s string) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad literal %s", s)
	}
	return v
}

// TestP1_NormalisePriceVectors pins the normalisation rule of docs/design.md; SolvencyRegistry's
// Solidity applies the same rule (contracts' registry tests compare the two on chain).
func TestP1_NormalisePriceVectors(t *testing.T) {
	for _, tc := range []struct {
		answer   string
		decimals uint8
		want     uint64
		err      bool
	}{
		{"6500000000000", 8, 6500000000000, false},             // BTC/USD, 8 decimals: unchanged
		{"123", 6, 12300, false},                               // fewer decimals: scaled up
		{"1", 0, 100000000, false},                             // 0 decimals
		{"3123456789012345678", 18, 312345678, false},          // 18 decimals: floor
		{"3123456789999999999", 18, 312345678, false},          // floor, never rounded up
		{"9999999999", 18, 0, true},                            // floors to 0: refused
		{"0", 8, 0, true},                                      // not positive
		{"-5", 8, 0, true},                                     // negative
		{"9223372036854775807", 8, 9223372036854775807, false}, // 2^63 - 1
		{"9223372036854775808", 8, 0, true},                    // 2^63
		{"92233720368547759", 6, 0, true},                      // scales past 2^63
		{"1", 37, 0, true},                                     // too many decimals
		{"1" + zeros(36), 36, 100000000, false},                // 36 decimals: the largest accepted
	} {
		got, err := NormalisePrice(big10(t, tc.answer), tc.decimals)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("NormalisePrice(%s, %d) = %d, %v; want %d, error %v", tc.answer, tc.decimals, got, err, tc.want, tc.err)
		}
	}
	if _, err := NormalisePrice(nil, 8); err == nil {
		t.Error("a nil answer was normalised")
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

// TestS1_PackingVectors pins the public-input layout of docs/design.md: meta's fields at bits
// 0, 64, 128, 192 and price i at bit 63*(i%4) of word i/4; values that would spill into a
// neighbouring field are refused.
func TestS1_PackingVectors(t *testing.T) {
	meta, err := PackMeta(Meta{Cycle: 1, ReservesBlock: 2, SnapshotEpoch: 3, SnapshotTime: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := new(big.Int).Lsh(big.NewInt(4), 192)
	want.Add(want, new(big.Int).Lsh(big.NewInt(3), 128))
	want.Add(want, new(big.Int).Lsh(big.NewInt(2), 64))
	want.Add(want, big.NewInt(1))
	if meta.Cmp(want) != 0 {
		t.Fatalf("meta %x, want %x", meta, want)
	}
	if _, err := PackMeta(Meta{SnapshotTime: 1 << 40}); err == nil {
		t.Fatal("a 41-bit snapshot time was packed")
	}
	top, err := PackMeta(Meta{^uint64(0), ^uint64(0), ^uint64(0), MaxSnapshotTime})
	if err != nil || top.BitLen() != 232 {
		t.Fatalf("largest meta: %v bits, %v", top.BitLen(), err)
	}
	words, err := PackPrices([]uint64{1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	w0 := big.NewInt(4)
	for _, p := range []int64{3, 2, 1} {
		w0.Lsh(w0, 63).Add(w0, big.NewInt(p))
	}
	if len(words) != 2 || words[0].Cmp(w0) != 0 || words[1].Cmp(big.NewInt(5)) != 0 {
		t.Fatalf("packed %x", words)
	}
	if _, err := PackPrices([]uint64{1 << 63}); err == nil {
		t.Fatal("a 64-bit price was packed")
	}
	full, err := PackPrices([]uint64{1<<63 - 1, 1<<63 - 1, 1<<63 - 1, 1<<63 - 1})
	if err != nil || full[0].BitLen() != 252 {
		t.Fatalf("largest price word: %v", err)
	}
	for _, c := range []struct{ assets, words int }{{1, 1}, {4, 1}, {5, 2}, {8, 2}, {16, 4}} {
		if n := NumPriceWords(c.assets); n != c.words {
			t.Errorf("NumPriceWords(%d) = %d, want %d", c.assets, n, c.words)
		}
	}
	in, err := PublicInputs(big.NewInt(11), big.NewInt(22), big.NewInt(33), Meta{Cycle: 1, ReservesBlock: 2, SnapshotEpoch: 3, SnapshotTime: 4}, []uint64{1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != FixedInputs+2 || in[0].Int64() != 11 || in[1].Int64() != 22 || in[2].Int64() != 33 ||
		in[3].Cmp(want) != 0 || in[4].Cmp(w0) != 0 || in[5].Int64() != 5 {
		t.Fatalf("public inputs %v", in)
	}
	if _, err := PublicInputs(big.NewInt(0), big.NewInt(0), big.NewInt(0), Meta{}, []uint64{1 << 63}); err == nil {
		t.Fatal("public inputs with a 64-bit price")
	}
}

// FuzzNormalisePrice: whatever the answer and decimals, a normalised price is in [1, 2^63).
func FuzzNormalisePrice(f *testing.F) {
	f.Add([]byte{0x01, 0x02}, uint8(8))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, uint8(18))
	f.Fuzz(func(t *testing.T, b []byte, d uint8) {
		a := new(big.Int).SetBytes(b)
		p, err := NormalisePrice(a, d)
		if err != nil {
			return
		}
		if p == 0 || p >= 1<<PriceBits {
			t.Fatalf("NormalisePrice(%v, %d) = %d", a, d, p)
		}
	})
}
