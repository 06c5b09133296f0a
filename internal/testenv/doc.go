// Package testenv builds what seconf's tests run against: private copies of
// the host's SELinux policy store, refpolicy's container module for Debian 12,
// and snapshots of a root to prove that a failed run wrote nothing. It never
// changes the machine the tests run on.
package testenv
