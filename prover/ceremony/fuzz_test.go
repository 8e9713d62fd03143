package ceremony

import (
	"testing"

	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"

	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/toycircuits"
)

// FuzzParseContribution feeds arbitrary bytes to both contribution parsers: they may refuse, but
// must neither panic nor allocate what the input merely announces.
func FuzzParseContribution(f *testing.F) {
	p1 := mpcsetup.NewPhase1(4)
	p1.Contribute()
	b1, err := encode(p1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b1)

	p := testProfileF(f)
	cc, err := circuitcache.Cache{}.Get(toycircuits.Specs()[0], p)
	if err != nil {
		f.Fatal(err)
	}
	big := mpcsetup.NewPhase1(domainOf(cc.CCS.GetNbConstraints()))
	big.Contribute()
	commons := big.Seal([]byte("fuzz seed beacon, not random!"))
	var p2 mpcsetup.Phase2
	if _, _, err := initPhase2(&p2, cc, &commons, domainOf(cc.CCS.GetNbConstraints())); err != nil {
		f.Fatal(err)
	}
	p2.Contribute()
	b2, err := encode(&p2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b2)
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		if p, err := parsePhase1(data, 0); err == nil {
			if _, err := encode(p); err != nil {
				t.Fatal(err)
			}
		}
		if p, err := parsePhase2(data); err == nil {
			if _, err := encode(p); err != nil {
				t.Fatal(err)
			}
		}
	})
}
