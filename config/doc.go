// Package config turns seconf's HCL files into typed blocks with source ranges.
//
// It knows no host: it reads the configuration files and the files they name
// (policy sources), evaluates variables and references, and reports every
// problem as an hcl.Diagnostic with a Subject, so that the CLI can print
// file:line:col and the offending source line.
package config
