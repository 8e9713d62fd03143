package main

import "github.com/spf13/cobra"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "solvency",
		Short: "Prove in zero knowledge that a treasury is solvent and within its risk limits",
		Long: `solvency runs a treasury's cycles: it assesses risk, rebalances privately, proves with
Groth16 on BN254 that reserves cover every user's balance and that governance's risk limits hold,
and publishes the attestation to an on-chain registry. Auditors verify a cycle's bundle offline;
users check that their balance is included.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       "(see below)",
	}
	// --version prints the same as `solvency version`.
	root.SetVersionTemplate(versionText(buildVersion()))
	root.AddCommand(
		newTestdataCmd(),
		newLiabilitiesCmd(),
		newVerifyCmd(),
		newCircuitsCmd(),
		newRiskCmd(),
		newPolicyCmd(),
		newSetupCmd(),
		newCeremonyCmd(),
		newProveCmd(),
		newWorkerCmd(),
		newBenchCmd(),
		newContractsCmd(),
		newDevnetCmd(),
		newPublishCmd(),
		newAttestationsCmd(),
		newRunCmd(),
		newDemoCmd(),
		newVersionCmd(),
		newServeCmd(),
		newReportCmd(),
	)
	return root
}
