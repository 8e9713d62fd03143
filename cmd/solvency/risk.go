package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newRiskCmd is a placeholder until its command group lands.
func newRiskCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "risk",
		Short:  "Report every risk limit (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("risk: not implemented yet")
		},
	}
}
