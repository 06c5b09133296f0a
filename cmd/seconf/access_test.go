package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/selinux/go-selinux"

	"seconf/internal/testenv"
)

// TestPlanWarnsOfDenials: plan reads a volume's label (here set on a
// private root, as setfiles labels an image) and asks sesearch whether the
// container's type may use it, naming what would be denied at run time.
func TestPlanWarnsOfDenials(t *testing.T) {
	root := testenv.PolicyRoot(t)
	for dir, label := range map[string]string{"srv/secret": "shadow_t", "srv/www": "httpd_sys_content_t"} {
		p := filepath.Join(root, dir)
		os.MkdirAll(p, 0o755)
		if err := selinux.SetFileLabel(p, "system_u:object_r:"+label+":s0"); err != nil {
			t.Fatalf("label %s: %v", p, err)
		}
	}
	cfg := writeFiles(t, map[string]string{"host.hcl": `
container "web" {
  image        = "localhost/web:1"
  # httpd_t is no container domain: only an opt-out lets it through.
  allow_unconfined = true
  selinux_type = "httpd_t"
  volume {
    source    = "/srv/www"
    target    = "/www"
    read_only = true
  }
  volume {
    source = "/srv/secret"
    target = "/secret"
  }
}
`})
	out := mustSeconf(t, 0, "plan", "--root", root, cfg)
	// The warning points at the volume block (line 10) and says what is
	// missing for which label.
	if !strings.Contains(out, "Warning: Access will be denied") || !strings.Contains(out, "host.hcl line 12") ||
		!strings.Contains(out, "type httpd_t has no allow rule for /srv/secret shadow_t:dir {") ||
		!strings.Contains(out, "shadow_t:file {") {
		t.Errorf("no warning about the denied volume:\n%s", out)
	}
	if strings.Contains(out, "/srv/www") {
		t.Errorf("warning about a volume httpd_t may read:\n%s", out)
	}
}
