package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newLiabilitiesCmd is a placeholder until its command group lands.
func newLiabilitiesCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "liabilities",
		Short:  "Build the liabilities tree and users' inclusion proofs (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("liabilities: not implemented yet")
		},
	}
}
