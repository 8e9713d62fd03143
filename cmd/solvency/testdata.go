package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newTestdataCmd is a placeholder until its command group lands.
func newTestdataCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "testdata",
		Short:  "Generate test fixtures (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("testdata: not implemented yet")
		},
	}
}
