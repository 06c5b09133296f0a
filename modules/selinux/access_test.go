package selinux

import (
	"strings"
	"testing"
)

func TestMissingPerms(t *testing.T) {
	out := "allow container_domain file_type:dir { getattr open search };\nallow x_t logfile:dir read;\n"
	got := strings.Join(missingPerms(out, needs[false]["dir"]), " ")
	if got != "add_name remove_name write" {
		t.Errorf("missing: %q", got)
	}
}
