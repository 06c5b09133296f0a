package container

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/config"
	"seconf/host"
	"seconf/modules/units"
)

func newHost(t *testing.T, files ...string) *host.Host {
	t.Helper()
	h, err := host.New(t.TempDir(), host.Offline, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := h.FS.WriteFile(f, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func boolp(b bool) *bool { return &b }

func TestUseQuadlet(t *testing.T) {
	cases := []struct {
		name    string
		quadlet *bool
		files   []string
		want    bool
	}{
		{"bare host", nil, nil, false},
		{"systemd generator", nil, []string{host.QuadletGenerators[0]}, true},
		{"libexec quadlet", nil, []string{host.QuadletGenerators[1]}, true},
		{"forced on", boolp(true), nil, true},
		{"forced off", boolp(false), []string{host.QuadletGenerators[0]}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ctr("app", func(c *config.Container) { c.Quadlet = tc.quadlet })
			if got := UseQuadlet(c, newHost(t, tc.files...)); got != tc.want {
				t.Errorf("UseQuadlet = %v, want %v", got, tc.want)
			}
		})
	}
}

// unitView is the part of an units.Unit a test compares.
type unitView struct {
	ID, Name               string
	Enable, Start, Gen     bool
	WantedBy, Needs, Paths []string
}

func view(us []*units.Unit) []unitView {
	var out []unitView
	for _, u := range us {
		v := unitView{ID: u.ID, Name: u.Name, Enable: u.Enable, Start: u.Start, Gen: u.Generated, WantedBy: u.WantedBy, Needs: u.Needs}
		for _, f := range u.Files {
			v.Paths = append(v.Paths, f.Path)
		}
		out = append(out, v)
	}
	return out
}

func TestUnits(t *testing.T) {
	cfg := &config.Config{
		Mounts: []*config.Mount{{Block: config.Block{Kind: config.KindMount, Name: "srv_data"}, Where: "/srv/data"}},
		Containers: []*config.Container{
			ctr("db", func(c *config.Container) { c.Engine = "docker" }),
			ctr("app", func(c *config.Container) {
				c.Deps = []config.Ref{
					{Kind: config.KindModule, Name: "app_policy"},
					{Kind: config.KindContainer, Name: "db"},
					{Kind: config.KindMount, Name: "srv_data"},
				}
				c.Volumes = []config.Volume{{Source: "/srv/data/app", Target: "/data", Relabel: config.RelabelPrivate, Mount: "srv_data"}}
				c.Environment = map[string]string{"TOKEN": "x"}
				c.Sensitive = map[string]bool{"TOKEN": true}
			}),
			ctr("off", func(c *config.Container) { c.Enabled = false; c.Quadlet = boolp(false) }),
		},
	}
	wantApp := func(gen bool) unitView {
		p := "/etc/systemd/system/app.service"
		if gen {
			p = "/etc/containers/systemd/app.container"
		}
		return unitView{ID: "container.app", Name: "app.service", Enable: true, Start: true, Gen: gen,
			WantedBy: []string{"multi-user.target"},
			// Its policy, its image and the host path it mounts (a file or
			// directory block there restarts it).
			Needs: []string{"selinux_module.app_policy", "image:podman:docker.io/library/busybox:1.36", "file:/srv/data/app"},
			Paths: []string{p, "/etc/seconf/env/app.env"}}
	}
	db := unitView{ID: "container.db", Name: "db.service", Enable: true, Start: true,
		WantedBy: []string{"multi-user.target"}, Needs: []string{"image:docker:docker.io/library/busybox:1.36"},
		Paths: []string{"/etc/systemd/system/db.service"}}
	off := unitView{ID: "container.off", Name: "off.service", Needs: []string{"image:podman:docker.io/library/busybox:1.36"},
		Paths: []string{"/etc/systemd/system/off.service"}}

	cases := []struct {
		name  string
		files []string
		want  []unitView
	}{
		{"without quadlet", nil, []unitView{db, wantApp(false), off}},
		{"with quadlet", []string{host.QuadletGenerators[0]}, []unitView{db, wantApp(true), off}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			units, diags := Source{}.Units(context.Background(), cfg, newHost(t, tc.files...))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if d := cmp.Diff(tc.want, view(units)); d != "" {
				t.Errorf("units (-want +got):\n%s", d)
			}
			app := string(units[1].Files[0].Data)
			for _, line := range []string{"After=db.service", "Requires=db.service", "RequiresMountsFor=/srv/data\n"} {
				if !strings.Contains(app, line) {
					t.Errorf("app unit lacks %q:\n%s", line, app)
				}
			}
		})
	}
}

// TestInstallWantedBy: the install map's WantedBy= targets join
// multi-user.target, so that an offline apply links the unit into each.
func TestInstallWantedBy(t *testing.T) {
	cfg := &config.Config{Containers: []*config.Container{ctr("app", func(c *config.Container) {
		c.Install = []config.SystemdSetting{{Key: "WantedBy", Values: []string{"default.target graphical.target", "multi-user.target"}}}
	})}}
	us, diags := Source{}.Units(context.Background(), cfg, newHost(t))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if d := cmp.Diff([]string{"multi-user.target", "default.target", "graphical.target"}, us[0].WantedBy); d != "" {
		t.Errorf("WantedBy (-want +got):\n%s", d)
	}
}

// TestNewSourceRendersAsSource: the Source that remembers its renders for
// a run gives, after validating, the units a fresh render gives, on a host
// with quadlet and one without, and a second configuration gets its own.
func TestNewSourceRendersAsSource(t *testing.T) {
	apps, _ := filepath.Glob("testdata/apps/*/host.hcl")
	if len(apps) < 5 {
		t.Fatalf("found %d applications", len(apps))
	}
	s := NewSource() // one for all: each configuration replaces the last
	for _, app := range apps {
		cfg, _, diags := config.Load([]string{app}, config.Options{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		for _, q := range []struct {
			name  string
			files []string
		}{{"quadlet", []string{host.QuadletGenerators[0]}}, {"plain", nil}} {
			t.Run(filepath.Base(filepath.Dir(app))+"/"+q.name, func(t *testing.T) {
				h := newHost(t, q.files...)
				want, d := Source{}.Units(context.Background(), cfg, h)
				if d.HasErrors() {
					t.Fatal(d)
				}
				if d := s.Validate(cfg); d.HasErrors() {
					t.Fatal(d)
				}
				got, d := s.Units(context.Background(), cfg, h)
				if d.HasErrors() {
					t.Fatal(d)
				}
				if diff := cmp.Diff(files(want), files(got)); diff != "" {
					t.Errorf("units differ (-fresh +remembered):\n%s", diff)
				}
			})
		}
	}
}

func files(us []*units.Unit) map[string]string {
	out := map[string]string{}
	for _, u := range us {
		for _, f := range u.Files {
			out[f.Path] = string(f.Data)
		}
	}
	return out
}
