// Package lazyre holds regular expressions that are compiled on first use
// rather than at program start: a package-level regexp.MustCompile runs in
// every seconf process's initialisation, the timer's no-change run
// included, whether the expression is needed or not.
package lazyre
