package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newRunCmd is a placeholder until its command group lands.
func newRunCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "run",
		Short:  "Run treasury cycles (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("run: not implemented yet")
		},
	}
}
