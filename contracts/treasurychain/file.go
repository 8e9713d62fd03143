package treasurychain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/solvency-dev/solvency/internal/atomicfile"
)

// DeploymentVersion is the deployment file format written by WriteDeployment.
const DeploymentVersion = 1

type deploymentFile struct {
	Version int `json:"version"`
	*Deployment
}

// WriteDeployment writes where the treasury was deployed (atomically, 0644), so a restarted
// process finds the same Safe, tokens, vaults and pools instead of deploying again.
func WriteDeployment(path string, d *Deployment) error {
	raw, err := json.MarshalIndent(deploymentFile{Version: DeploymentVersion, Deployment: d}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode deployment: %w", err)
	}
	return atomicfile.WriteFile(path, append(raw, '\n'), 0o644)
}

// ReadDeployment reads a deployment file strictly: unknown fields, trailing data and another
// version are errors.
func ReadDeployment(path string) (*Deployment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read deployment: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("read deployment %s: %w", path, err)
	}
	if len(raw) > 1<<20 {
		return nil, fmt.Errorf("deployment %s is larger than 1 MiB", path)
	}
	df := deploymentFile{Deployment: &Deployment{}}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&df); err != nil {
		return nil, fmt.Errorf("deployment %s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("deployment %s: trailing data", path)
	}
	if df.Version != DeploymentVersion {
		return nil, fmt.Errorf("deployment %s: version %d; this tool reads version %d", path, df.Version, DeploymentVersion)
	}
	d := df.Deployment
	if d.Safe == ([20]byte{}) || d.Multicall == ([20]byte{}) || d.MultiSendCallOnly == ([20]byte{}) || d.SafeVenue == "" {
		return nil, errors.New("deployment " + path + ": no Safe, multicall, MultiSendCallOnly or Safe venue")
	}
	return d, nil
}
