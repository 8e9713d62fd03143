package contracts

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

//go:embed artifacts/SolvencyRegistry.json artifacts/DevPriceFeed.json
var artifactFS embed.FS

// Artifact is one compiled contract: what tools/compile.js writes.
type Artifact struct {
	ContractName     string          `json:"contractName"`
	SourceName       string          `json:"sourceName"`
	Compiler         string          `json:"compiler"`
	Settings         json.RawMessage `json:"settings"`
	ABI              json.RawMessage `json:"abi"`
	Bytecode         string          `json:"bytecode"`
	DeployedBytecode string          `json:"deployedBytecode"`
}

// ParsedABI parses the artifact's ABI.
func (a *Artifact) ParsedABI() (abi.ABI, error) {
	parsed, err := abi.JSON(strings.NewReader(string(a.ABI)))
	if err != nil {
		return abi.ABI{}, fmt.Errorf("parse ABI of %s: %w", a.ContractName, err)
	}
	return parsed, nil
}

// Code returns the creation bytecode.
func (a *Artifact) Code() ([]byte, error) {
	code, err := hexutil.Decode(a.Bytecode)
	if err != nil || len(code) == 0 {
		return nil, fmt.Errorf("artifact %s has no usable bytecode (%v); run go generate ./contracts", a.ContractName, err)
	}
	return code, nil
}

// RuntimeCode returns the deployed (runtime) bytecode, which an auditor compares with the code at
// the deployed address (V2). For the registry, immutables are zero in it.
func (a *Artifact) RuntimeCode() ([]byte, error) {
	code, err := hexutil.Decode(a.DeployedBytecode)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: runtime bytecode: %w", a.ContractName, err)
	}
	return code, nil
}

func loadArtifact(name string) (*Artifact, error) {
	raw, err := artifactFS.ReadFile("artifacts/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("embedded artifact %s: %w", name, err)
	}
	var a Artifact
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("embedded artifact %s: %w", name, err)
	}
	return &a, nil
}

// RegistryArtifact returns the committed compilation of SolvencyRegistry.sol.
func RegistryArtifact() (*Artifact, error) { return loadArtifact("SolvencyRegistry") }

// DevFeedArtifact returns the committed compilation of DevPriceFeed.sol.
func DevFeedArtifact() (*Artifact, error) { return loadArtifact("DevPriceFeed") }
