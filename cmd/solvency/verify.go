package main

import "github.com/spf13/cobra"

func newVerifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a cycle's bundle (auditors) or one account's inclusion (users)",
	}
	cmd.AddCommand(newVerifyInclusionCmd(), newVerifyBundleCmd(), newVerifyReservesCmd())
	return cmd
}
