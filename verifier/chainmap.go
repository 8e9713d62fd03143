package verifier

import "github.com/solvency-dev/solvency/bundle"

// What an on-chain reserves read reports. The reads themselves and the auditor's check around
// them (chainreserves.go, reservescheck.go) need go-ethereum's client and are left out of the
// WebAssembly build of the users' page, which reads the registry through its own small JSON-RPC
// reader; the opening's chain map is bundle.ChainMap.

// ChainReadReport is what was read: the observed balances (for CompareBalances) and each read
// with its source, for the auditor to see which holders and contracts the opening named.
type ChainReadReport struct {
	Observed *ObservedBalances `json:"observed"`
	Reads    []ChainRead       `json:"reads"`
}

// ChainRead is one position read at the block, in base units.
type ChainRead struct {
	bundle.ChainPosition
	Symbol string `json:"symbol"`
	Amount string `json:"amount_base"`
}
