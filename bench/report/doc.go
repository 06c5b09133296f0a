// Command report turns the raw samples bench/run and bench/settings write
// (bench/out/samples.tsv, settings.tsv and the tools' outputs beside them)
// into bench/RESULTS.md and bench/SETTINGS.md: medians, ratios, and whether
// each target is met. The shell measures; this writes.
//
//	go run ./bench/report [-data bench/out] [-out FILE] run|settings
//
// samples.tsv has one record a line, tab-separated: "info KEY VALUE", or
// "t NAME WALL_US CPU_US" for one timed run (CPU is user + system time, 0
// where not measured).
package main
