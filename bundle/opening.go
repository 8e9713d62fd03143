package bundle

// The reserves opening: the private opening of RC the prover writes (reserves-opening-NNNNNN.json)
// and an auditor reads to check reserves (R1). The checks themselves are in package verifier.

import (
	"fmt"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// ReservesOpeningVersion is the opening file format this code reads.
const ReservesOpeningVersion = 1

// ReservesOpening is the private opening of RC as the prover writes it (prover.ReservesOpening
// is this type). Slots is P, the number of position slots the circuit hashes; 0 when the file
// predates the field.
type ReservesOpening struct {
	Version   int              `json:"version"`
	Cycle     uint64           `json:"cycle"`
	RC        string           `json:"rc"`
	Salt      string           `json:"salt"`
	Block     uint64           `json:"reserves_block"`
	Slots     int              `json:"slots,omitempty"`
	Positions []OpenPosition   `json:"positions"`
	Assets    []assets.Asset   `json:"assets"`
	Venues    []solvency.Venue `json:"venues"`
	// Chain says where each on-chain (venue, asset) is held, for `verify reserves --rpc`.
	Chain *ChainMap `json:"chain,omitempty"`
	// Option and pool-share slots and records (docs/greeks.md). RC commits every slot, padding
	// included, so the slot counts are part of the opening; absent means none.
	OptionSlots int          `json:"option_slots,omitempty"`
	PoolSlots   int          `json:"pool_slots,omitempty"`
	Options     []OpenOption `json:"options,omitempty"`
	Pools       []OpenPool   `json:"pools,omitempty"`
}

// OpenOption is one opened option record: the underlying asset and venue by index, "call" or
// "put", short or long, the strike in USD with 8 decimals per whole token (a decimal integer),
// the expiry (unix seconds) and the size in the underlying's circuit units (a decimal integer
// >= 0; the sign is Short).
type OpenOption struct {
	Venue  int    `json:"venue"`
	Asset  int    `json:"asset"`
	Right  string `json:"right"`
	Short  bool   `json:"short"`
	Strike string `json:"strike_usd8"`
	Expiry uint64 `json:"expiry"`
	Size   string `json:"size_units"`
}

// OpenPool is one opened pool share: the holder's claim on each reserve, in circuit units.
type OpenPool struct {
	Venue   int    `json:"venue"`
	AssetA  int    `json:"asset_a"`
	AssetB  int    `json:"asset_b"`
	AmountA string `json:"amount_a_units"`
	AmountB string `json:"amount_b_units"`
}

// OpenPosition is one opened position: a signed amount in circuit units (the asset's precision);
// a negative amount is a short or a borrow.
type OpenPosition struct {
	Venue  int    `json:"venue"`
	Asset  int    `json:"asset"`
	Amount string `json:"amount_units"`
}

// ReadReservesOpening reads and strictly decodes an opening file: unknown fields, trailing data
// and a wrong version are errors. Values are parsed canonically by
// verifier.ParseOpening.
func ReadReservesOpening(path string) (*ReservesOpening, error) {
	raw, err := boundedfile.ReadFile(path, boundedfile.Reserves)
	if err != nil {
		return nil, err
	}
	return decodeReservesOpening(path, raw)
}

// DecodeReservesOpening strictly decodes an opening.
func DecodeReservesOpening(raw []byte) (*ReservesOpening, error) {
	return decodeReservesOpening("reserves opening", raw)
}

func decodeReservesOpening(name string, raw []byte) (*ReservesOpening, error) {
	var o ReservesOpening
	if err := jsonstrict.Unmarshal(name, raw, &o); err != nil {
		return nil, err
	}
	if o.Version != ReservesOpeningVersion {
		return nil, fmt.Errorf("%s: reserves opening version %d; this tool reads version %d", name, o.Version, ReservesOpeningVersion)
	}
	return &o, nil
}

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
	// OffChain names the venues whose amounts the opening holds but the chain cannot show (a
	// perpetual exchange, a custodian): the auditor observes those elsewhere (--balances).
	OffChain []OffChainVenue `json:"off_chain,omitempty"`
}

// OffChainVenue is a venue of the opening that has no contract to read: its index in the
// opening's venue table, the engine's name for it and why it is off chain.
type OffChainVenue struct {
	Venue int    `json:"venue"`
	Name  string `json:"name"`
	Why   string `json:"why,omitempty"`
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
