package treasurychain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
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
	// Through the project's bounded reader, like every other input file: a regular file only
	// (a FIFO or a device is refused before it is opened), within the configuration limit.
	raw, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("read deployment: %w", err)
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
