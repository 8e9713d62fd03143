package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newAttestationsCmd is a placeholder until its command group lands.
func newAttestationsCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "attestations",
		Short:  "Read attestations from the registry (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("attestations: not implemented yet")
		},
	}
}
