package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newVerifyInclusionCmd is a placeholder until its command group lands.
func newVerifyInclusionCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "inclusion",
		Short:  "Check that an account is included (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("inclusion: not implemented yet")
		},
	}
}
