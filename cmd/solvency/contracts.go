package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newContractsCmd is a placeholder until its command group lands.
func newContractsCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "contracts",
		Short:  "Export, compile and deploy contracts (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("contracts: not implemented yet")
		},
	}
}
