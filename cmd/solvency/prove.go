package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newProveCmd is a placeholder until its command group lands.
func newProveCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "prove",
		Short:  "Prove a cycle and write its bundle (not implemented yet)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("prove: not implemented yet")
		},
	}
}
