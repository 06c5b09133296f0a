package main

import "github.com/spf13/cobra"

// addOpsCommands adds the commands for unattended use (timer, status, docs).
func addOpsCommands(root *cobra.Command, o *options) {}
