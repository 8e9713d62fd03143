package engine

import (
	"bufio"
	"io"
	"math/big"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/liabilities"
)

// scaleBalances scales each asset's balances so that their total is at most targets[a] (circuit
// units), keeping the generator's heavy-tailed shape; an asset without a target is zeroed.
func scaleBalances(accts []liabilities.Account, targets []*big.Int) {
	for a := range targets {
		total := new(big.Int)
		for _, ac := range accts {
			total.Add(total, new(big.Int).SetUint64(ac.Balances[a]))
		}
		for i := range accts {
			if total.Sign() == 0 || targets[a] == nil || targets[a].Sign() == 0 {
				accts[i].Balances[a] = 0
				continue
			}
			v := new(big.Int).SetUint64(accts[i].Balances[a])
			v.Mul(v, targets[a]).Div(v, total) // floor: the total stays at or below the target
			accts[i].Balances[a] = v.Uint64()
		}
	}
}

// writeAccountsCSV writes accounts in the snapshot's CSV format.
func writeAccountsCSV(path string, table *assets.Table, accts []liabilities.Account) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.WriteString("account_id")
		for _, a := range table.Assets {
			bw.WriteString("," + a.Symbol)
		}
		bw.WriteString("\n")
		for _, ac := range accts {
			bw.WriteString(ac.ID)
			for i, a := range table.Assets {
				bw.WriteString("," + assets.FormatUnits(new(big.Int).SetUint64(ac.Balances[i]), a.Precision))
			}
			bw.WriteString("\n")
		}
		return bw.Flush()
	})
}
