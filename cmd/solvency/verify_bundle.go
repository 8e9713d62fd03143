package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newVerifyBundleCmd is a placeholder until its command group lands.
func newVerifyBundleCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "bundle",
		Short:  "Verify a cycle's bundle offline (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("bundle: not implemented yet")
		},
	}
}
