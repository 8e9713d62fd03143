package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newPublishCmd is a placeholder until its command group lands.
func newPublishCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "publish",
		Short:  "Publish a cycle's attestation (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("publish: not implemented yet")
		},
	}
}
