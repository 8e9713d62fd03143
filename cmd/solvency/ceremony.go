package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newCeremonyCmd is a placeholder until its command group lands.
func newCeremonyCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "ceremony",
		Short:  "Multi-party trusted setup (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("ceremony: not implemented yet")
		},
	}
}
