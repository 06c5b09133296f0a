package engine

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Errorf is an error diagnostic pointing at rng (nil: no place in the
// configuration, such as a host that lacks a tool).
func Errorf(rng *hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: copyRange(rng)}
}

// Warnf is a warning diagnostic pointing at rng.
func Warnf(rng *hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: copyRange(rng)}
}

// FromError turns a Go error into an error diagnostic at rng, so that one
// channel carries every problem a run meets.
func FromError(rng *hcl.Range, summary string, err error) hcl.Diagnostics {
	if err == nil {
		return nil
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: err.Error(), Subject: copyRange(rng)}}
}

// copyRange keeps a diagnostic from aliasing a range the caller reuses, and
// maps an empty range (a block without a place) to none.
func copyRange(rng *hcl.Range) *hcl.Range {
	if rng == nil || rng.Filename == "" {
		return nil
	}
	r := *rng
	return &r
}
