// Package contracts holds the on-chain side of solvency: the Solidity sources (the attestation
// registry, a settable Chainlink-compatible price feed for dev chains), their compiled artifacts,
// gnark's generated Groth16 verifier for the solvency circuit, Go bindings, and the operations the
// CLI needs: deploy, publish (idempotent by cycle, V6) and query.
//
// Solidity is compiled with the npm package solc, pinned in package.json and package-lock.json
// and installed by scripts/setup.sh; tools/compile.js fixes the compiler settings (optimizer on,
// 200 runs, EVM cancun, no metadata hash) so the same sources always give the same bytecode. The
// registry's and the feed's artifacts do not depend on any key and are committed in artifacts/;
// regenerate them with `go generate ./contracts`. The verifier depends on the verifying key and is
// compiled when exported (ExportVerifier, CompileVerifier).
//
// The registry builds every public input itself (S1); Attestation.PublicInputs is the same packing
// in Go and statement.NormalisePrice (circuits/statement) the same price normalisation (P1), as
// docs/design.md specifies.
package contracts

//go:generate node tools/compile.js artifacts AggregatorV3Interface.sol DevPriceFeed.sol SolvencyRegistry.sol
