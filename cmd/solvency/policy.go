package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newPolicyCmd is a placeholder until its command group lands.
func newPolicyCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "policy",
		Short:  "Show a governance policy (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("policy: not implemented yet")
		},
	}
}
