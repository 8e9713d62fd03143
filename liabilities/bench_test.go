package liabilities

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
)

func benchTable(b *testing.B) *assets.Table {
	b.Helper()
	tab, err := assets.Load("../testdata/assets.json")
	if err != nil {
		b.Fatal(err)
	}
	return tab
}

// BenchmarkParseAccounts: CSV parsing throughput on a generated 8-asset snapshot.
//
//	go test ./liabilities -run XXX -bench ParseAccounts -benchtime 3x
func BenchmarkParseAccounts(b *testing.B) {
	tab := benchTable(b)
	const users = 100_000
	var csv bytes.Buffer
	if err := Generate(&csv, tab, GenerateOptions{Users: users, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(csv.Len()))
	for b.Loop() {
		n := 0
		err := ParseAccounts(bytes.NewReader(csv.Bytes()), "bench.csv", tab, func(Account) error { n++; return nil })
		if err != nil || n != users {
			b.Fatal(err, n)
		}
	}
	b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "accounts/s")
}

// BenchmarkBuildAndWrite: the whole tree build (salts, shuffle, idHash, leaves, batch subtrees,
// running-sum chain, top tree, LC) and writing the public file and private store, at 8 assets
// and B = 512, on every core.
//
//	go test ./liabilities -run XXX -bench BuildAndWrite -benchtime 1x
func BenchmarkBuildAndWrite(b *testing.B) {
	tab := benchTable(b)
	for _, users := range []int{20_000} {
		b.Run(fmt.Sprintf("accounts=%d", users), func(b *testing.B) {
			var csv bytes.Buffer
			if err := Generate(&csv, tab, GenerateOptions{Users: users, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			var accts []Account
			if err := ParseAccounts(bytes.NewReader(csv.Bytes()), "bench.csv", tab, func(a Account) error {
				accts = append(accts, a)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				s, err := Build(context.Background(), tab, accts, BuildOptions{Epoch: 1})
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Write(b.TempDir(), nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "accounts/s")
		})
	}
}

// BenchmarkHashes: the native hash costs that bound the build: one width-8 record hash (two per
// account: idHash and leaf) and one width-12 node (one per 7 accounts).
func BenchmarkHashes(b *testing.B) {
	h := poseidon.NewHasher()
	b.Run("record", func(b *testing.B) {
		x := poseidon.Uint64(1)
		for b.Loop() {
			x = h.Hash(poseidon.TagLeaf, x, x, x, x)
		}
	})
	b.Run("node", func(b *testing.B) {
		var ch [poseidon.Arity]fr.Element
		for b.Loop() {
			ch[0] = h.Node(&ch)
		}
	})
}

// BenchmarkProof: serving one inclusion proof from an open store (B = 512): an index search,
// one record, one batch's leaves, about 70 node hashes for the in-batch siblings and the check
// of the finished proof.
func BenchmarkProof(b *testing.B) {
	tab := benchTable(b)
	var csv bytes.Buffer
	if err := Generate(&csv, tab, GenerateOptions{Users: 2000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	var ids []string
	var accts []Account
	if err := ParseAccounts(bytes.NewReader(csv.Bytes()), "bench.csv", tab, func(a Account) error {
		accts = append(accts, a)
		ids = append(ids, a.ID)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	s, err := Build(context.Background(), tab, accts, BuildOptions{Epoch: 1})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := s.Write(dir, nil); err != nil {
		b.Fatal(err)
	}
	st, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	i := 0
	for b.Loop() {
		if _, err := st.Proof(ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
