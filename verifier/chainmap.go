package verifier

// The chain map: where each on-chain (venue, asset) of a reserves opening is held. The reads
// themselves and the auditor's check around them (chainreserves.go, reservescheck.go) need go-ethereum's client and are left out of the WebAssembly
// build of the users' page, which reads the registry through its own small JSON-RPC reader.

// ChainMapVersion is the chain map format this code reads.
const ChainMapVersion = 1

// ChainMap says where each on-chain (venue, asset) of an opening is held: the reserves opening
// carries it (its "chain" field) so the auditor knows what to read. Several entries may name
// one (venue, asset) (a vault position and a debt at one lending venue): their amounts add up.
type ChainMap struct {
	Version   int             `json:"version"`
	ChainID   uint64          `json:"chain_id"`
	Multicall string          `json:"multicall"` // a UniswapInterfaceMulticall (v3-periphery 1.4.4 build)
	Positions []ChainPosition `json:"positions"`
}

// ChainPosition is one read: Kind is "native" (the holder's coin balance), "erc20"
// (contract.balanceOf(holder)), "erc4626" (contract.maxWithdraw(holder): the vault shares'
// withdrawable assets) or "debt" (a debt token's balanceOf(holder), counted negative).
type ChainPosition struct {
	Venue    int    `json:"venue"`
	Asset    int    `json:"asset"`
	Kind     string `json:"kind"`
	Holder   string `json:"holder"`
	Contract string `json:"contract,omitempty"`
}

// ChainReadReport is what was read: the observed balances (for CompareBalances) and each read
// with its source, for the auditor to see which holders and contracts the opening named.
type ChainReadReport struct {
	Observed *ObservedBalances `json:"observed"`
	Reads    []ChainRead       `json:"reads"`
}

// ChainRead is one position read at the block, in base units.
type ChainRead struct {
	ChainPosition
	Symbol string `json:"symbol"`
	Amount string `json:"amount_base"`
}
