package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newCircuitsCmd is a placeholder until its command group lands.
func newCircuitsCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "circuits",
		Short:  "Inspect the circuits (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("circuits: not implemented yet")
		},
	}
}
