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
	// ImmutableReferences is solc's evm.deployedBytecode.immutableReferences: by AST id, where
	// the constructor writes each immutable into the runtime code (zeros in DeployedBytecode).
	ImmutableReferences map[string][]ImmutableRef `json:"immutableReferences,omitempty"`
	// ImmutableNames names each id of ImmutableReferences (the state variable's name).
	ImmutableNames map[string]string `json:"immutableNames,omitempty"`
}

// ImmutableRef is one place in the runtime code where an immutable's value is written.
type ImmutableRef struct {
	Start  int `json:"start"`
	Length int `json:"length"`
}

// MatchRuntime compares code, read from a deployed contract, with the artifact's runtime bytecode
// byte for byte outside the immutables' places (V2), checks that every place of one immutable
// holds the same value, and returns each immutable's value by name (32 bytes, as the constructor
// wrote it: left-padded for integers and addresses, right-padded for bytesN).
func (a *Artifact) MatchRuntime(code []byte) (map[string][]byte, error) {
	want, err := a.RuntimeCode()
	if err != nil {
		return nil, err
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("artifact %s has no runtime bytecode", a.ContractName)
	}
	if len(code) != len(want) {
		return nil, fmt.Errorf("the code is %d bytes, the compiled %s %d", len(code), a.ContractName, len(want))
	}
	masked := make([]bool, len(want))
	values := make(map[string][]byte, len(a.ImmutableReferences))
	for id, refs := range a.ImmutableReferences {
		name, ok := a.ImmutableNames[id]
		if !ok || name == "" {
			return nil, fmt.Errorf("artifact %s: immutable %s has no name; run go generate ./contracts", a.ContractName, id)
		}
		if _, dup := values[name]; dup {
			return nil, fmt.Errorf("artifact %s: two immutables named %s", a.ContractName, name)
		}
		var val []byte
		for _, r := range refs {
			if r.Start < 0 || r.Length <= 0 || r.Start+r.Length > len(want) {
				return nil, fmt.Errorf("artifact %s: immutable %s at [%d, +%d) is outside the code", a.ContractName, name, r.Start, r.Length)
			}
			got := code[r.Start : r.Start+r.Length]
			if val == nil {
				val = append([]byte(nil), got...)
			} else if string(val) != string(got) {
				return nil, fmt.Errorf("immutable %s holds two different values in the code", name)
			}
			for i := r.Start; i < r.Start+r.Length; i++ {
				if masked[i] {
					return nil, fmt.Errorf("artifact %s: immutable places overlap at byte %d", a.ContractName, i)
				}
				masked[i] = true
			}
		}
		values[name] = val
	}
	for i := range want {
		if !masked[i] && code[i] != want[i] {
			return nil, fmt.Errorf("the code differs from the compiled %s at byte %d", a.ContractName, i)
		}
	}
	return values, nil
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
