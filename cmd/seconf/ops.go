package main

import "github.com/spf13/cobra"

// addOpsCommands adds the commands for unattended use (timer, status, docs)
// and for reviewing generated policy (policy).
// Cobra adds `completion` itself when the root runs.
func addOpsCommands(root *cobra.Command, o *options) {
	root.AddCommand(newTimerCommand(o), newStatusCommand(o), newDocsCommand(o), newPolicyCommand(o))
}
