package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newDevnetCmd is a placeholder until its command group lands.
func newDevnetCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "devnet",
		Short:  "Run an embedded development chain (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("devnet: not implemented yet")
		},
	}
}
