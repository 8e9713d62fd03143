// Package treasurychain puts a DAO treasury's real contracts on a chain and works with them:
// ERC-20 tokens and ERC-4626 vaults (OpenZeppelin 5.4.0), a Safe 1.4.1 (singleton, proxy
// factory, MultiSend) that owns the treasury, Uniswap V2 pools (v2-core 1.0.1) and Uniswap's
// read aggregator UniswapInterfaceMulticall (v3-periphery 1.4.4). It deploys them on a dev chain
// and funds the Safe (Deploy), reads every (venue, asset) position at a block with one
// UniswapInterfaceMulticall eth_call (Reader), turns trades into one MultiSend Safe
// transaction signed by the owners and checks the chain afterwards (Executor), and writes the
// Safe Transaction Builder batch for a Safe whose owners sign elsewhere (ProductionBatch).
//
// The contracts are compiled from the pinned npm packages by tools/compile-treasury.js (the
// aggregator, whose source the package does not ship, is taken from the package's own build; see
// README.md here); the artifacts are committed and a test regenerates and compares them.
package treasurychain

//go:generate node ../tools/compile-treasury.js artifacts

import (
	"embed"
	"encoding/json"
	"fmt"

	"github.com/solvency-dev/solvency/contracts"
)

//go:embed artifacts/*.json
var artifactFS embed.FS

// Names of the committed artifacts.
const (
	ArtDevToken          = "DevToken"
	ArtDevVault          = "DevVault"
	ArtSafe              = "Safe"
	ArtSafeProxyFactory  = "SafeProxyFactory"
	ArtMultiSend         = "MultiSend"
	ArtMultiSendCallOnly = "MultiSendCallOnly"
	ArtUniswapV2Factory  = "UniswapV2Factory"
	ArtUniswapV2Pair     = "UniswapV2Pair"
	ArtMulticall         = "UniswapInterfaceMulticall"
)

// ArtifactNames lists every committed artifact.
var ArtifactNames = []string{ArtDevToken, ArtDevVault, ArtSafe, ArtSafeProxyFactory, "SafeProxy", ArtMultiSend,
	ArtMultiSendCallOnly, ArtUniswapV2Factory, ArtUniswapV2Pair, ArtMulticall}

// LoadArtifact returns a committed artifact by contract name.
func LoadArtifact(name string) (*contracts.Artifact, error) {
	raw, err := artifactFS.ReadFile("artifacts/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("embedded artifact %s: %w", name, err)
	}
	var a contracts.Artifact
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("embedded artifact %s: %w", name, err)
	}
	return &a, nil
}
