package container

import (
	"context"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/config"
	"seconf/host"
	"seconf/modules/units"
)

// TestApplications takes applications as people write them for quadlet
// (testdata/apps/NAME/quadlet: a log collector, a web site with a named
// volume and network, a database with a secret and health checks, an API
// with most options, a node exporter, a cache on a tmpfs volume) and the
// same applications in seconf's language (testdata/apps/NAME/host.hcl).
// podman's real quadlet generator turns both sets of files into services,
// which must be the same services: the same podman commands (flag for
// flag) and the same systemd settings, the Description aside.
func TestApplications(t *testing.T) {
	apps, _ := filepath.Glob("testdata/apps/*")
	if len(apps) < 5 {
		t.Fatalf("found %d applications", len(apps))
	}
	for _, app := range apps {
		t.Run(filepath.Base(app), func(t *testing.T) {
			hand := map[string][]byte{}
			written, _ := filepath.Glob(filepath.Join(app, "quadlet", "*"))
			for _, f := range written {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				hand[filepath.Base(f)] = data
			}
			mine := renderApp(t, filepath.Join(app, "host.hcl"))
			if d := cmp.Diff(slices.Sorted(maps.Keys(hand)), slices.Sorted(maps.Keys(mine))); d != "" {
				t.Fatalf("quadlet files (-hand-written +seconf):\n%s", d)
			}
			want, got := quadlet(t, hand), quadlet(t, mine)
			for name := range want {
				t.Run(name, func(t *testing.T) {
					sameService(t, want[name], got[name], "Unit.Description")
				})
			}
		})
	}
}

// renderApp loads a configuration and renders it for a host with quadlet,
// returning the quadlet files by name.
func renderApp(t *testing.T, file string) map[string][]byte {
	t.Helper()
	cfg, _, diags := config.Load([]string{file}, config.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	h := newHost(t, host.QuadletGenerators[0])
	out := map[string][]byte{}
	for _, s := range []units.Source{VolumeSource, NetworkSource, Source{}} {
		if d := s.Validate(cfg); d.HasErrors() {
			t.Fatal(d)
		}
		us, d := s.Units(context.Background(), cfg, h)
		if d.HasErrors() {
			t.Fatal(d)
		}
		for _, u := range us {
			for _, f := range u.Files {
				if path.Dir(f.Path) != host.QuadletDir {
					t.Errorf("%s is not a quadlet file", f.Path)
				}
				out[path.Base(f.Path)] = f.Data
			}
		}
	}
	return out
}
