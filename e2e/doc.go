// Package e2e holds seconf's tests against real systems: a real systemd
// booted in an nspawn container (nspawn_test.go, run by go test), and a VM
// with SELinux enforcing (vm/, run by e2e/run). Nothing here changes the
// machine the tests run on: each system is a throwaway of its own.
package e2e
