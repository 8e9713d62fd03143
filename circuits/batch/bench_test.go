package batch

import (
	mrand "math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
)

// BenchmarkBatchProve proves one batch of 64 accounts at 8 assets (h=2, A=8), for the record:
// go test -run '^$' -bench BatchProve -benchtime 3x ./circuits/batch
// The setup (about 6 s here) runs once, outside the timer.
func BenchmarkBatchProve(b *testing.B) {
	s := Shape{Height: 2, Assets: 8}
	ccs, err := Compile(s)
	if err != nil {
		b.Fatal(err)
	}
	pk, _, err := groth16.Setup(ccs)
	if err != nil {
		b.Fatal(err)
	}
	in := randomBatch(mrand.New(mrand.NewPCG(30, 31)), s, 1)
	c, _, err := Assign(s, in.epoch, in.index, in.idHashes, in.balances, in.before, in.afterSalt)
	if err != nil {
		b.Fatal(err)
	}
	w, err := frontend.NewWitness(c, ecc.BN254.ScalarField())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := groth16.Prove(ccs, pk, w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ccs.GetNbConstraints()), "constraints")
	b.ReportMetric(float64(s.BatchSize())*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
}
