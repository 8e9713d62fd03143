package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newBenchCmd is a placeholder until its command group lands.
func newBenchCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "bench",
		Short:  "Measure setup, proving and verification (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("bench: not implemented yet")
		},
	}
}
