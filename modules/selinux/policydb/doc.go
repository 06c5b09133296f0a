// Package policydb reads the kernel's binary SELinux policy.
package policydb
