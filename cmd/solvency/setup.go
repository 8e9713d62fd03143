package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSetupCmd is a placeholder until its command group lands.
func newSetupCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "setup",
		Short:  "Single-party development setup (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("setup: not implemented yet")
		},
	}
}
