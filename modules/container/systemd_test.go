package container

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// standIns are the units the rendered units refer to that a bare root lacks.
var standIns = []string{"docker.service", "db.service"}

// TestSystemdVerify runs the real systemd-analyze verify on every rendered
// service; it must have nothing at all to say.
func TestSystemdVerify(t *testing.T) {
	for _, r := range renderings[1:] {
		t.Run(r.name, func(t *testing.T) {
			root := verifyRoot(t, standIns...)
			units := map[string][]byte{}
			for _, tc := range renderCases {
				files, err := r.render(tc.c, tc.links)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				f := fileByExt(t, files, ".service")
				units[path.Base(f.Path)] = f.Data
			}
			verify(t, root, units)
		})
	}
}

// quadletCases are the cases quadlet can carry.
func quadletCases() []renderCase {
	var out []renderCase
	for _, tc := range renderCases {
		if tc.name != "command-empty-arg" {
			out = append(out, tc)
		}
	}
	return out
}

// generate renders every quadlet case and runs podman's real quadlet
// generator on the files, returning the .container files and the
// generated services by container name.
func generate(t *testing.T) (containers, services map[string][]byte) {
	t.Helper()
	containers = map[string][]byte{}
	for _, tc := range quadletCases() {
		files, err := RenderQuadlet(tc.c, tc.links)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		containers[tc.c.Name+".container"] = fileByExt(t, files, ".container").Data
	}
	generated := quadlet(t, containers)
	services = map[string][]byte{}
	for name, data := range generated {
		services[strings.TrimSuffix(name, ".service")] = data
	}
	return containers, services
}

// TestQuadletGenerates feeds every quadlet file to the real generator: it
// must convert each one, the service it makes must pass systemd-analyze
// verify, and its podman run must carry the SELinux label and exactly the
// volumes asked for.
func TestQuadletGenerates(t *testing.T) {
	_, services := generate(t)
	for _, tc := range quadletCases() {
		t.Run(tc.name, func(t *testing.T) {
			data, ok := services[tc.c.Name]
			if !ok {
				t.Fatalf("quadlet made no %s.service", tc.c.Name)
			}
			o := parseUnit(t, data)
			args, err := argv(o.one(t, "Service.ExecStart"))
			if err != nil {
				t.Fatal(err)
			}
			if tc.c.SELinuxType != "" && !hasPair(args, "--security-opt", "label=type:"+tc.c.SELinuxType) {
				t.Errorf("no --security-opt label=type:%s in %q", tc.c.SELinuxType, args)
			}
			var vols []string
			for i := range args {
				if args[i] == "-v" && i+1 < len(args) {
					vols = append(vols, args[i+1])
				}
			}
			if d := cmp.Diff(wantVolumes(tc.c, tc.links), vols); d != "" {
				t.Errorf("volumes (-want +got):\n%s", d)
			}
			if n := len(tc.c.Command); !slices.Equal(args[len(args)-n:], tc.c.Command) {
				t.Errorf("command: got %q, want it to end in %q", args, tc.c.Command)
			}
		})
	}
	t.Run("verify", func(t *testing.T) {
		root := verifyRoot(t, standIns...)
		units := map[string][]byte{}
		for name, data := range services {
			units[name+".service"] = data
		}
		verify(t, root, units)
	})
}

// TestPlainServiceMatchesQuadlet holds the plain podman service to what
// quadlet generates from the quadlet file of the same container: the same
// podman command word for word, the same stop commands and service
// settings, the same dependencies. The two renderings cannot drift apart.
func TestPlainServiceMatchesQuadlet(t *testing.T) {
	_, services := generate(t)
	for _, tc := range quadletCases() {
		t.Run(tc.name, func(t *testing.T) {
			files, err := RenderPodmanService(tc.c, tc.links)
			if err != nil {
				t.Fatal(err)
			}
			plain := parseUnit(t, fileByExt(t, files, ".service").Data)
			gen := parseUnit(t, services[tc.c.Name])
			for _, key := range []string{"Service.ExecStart", "Service.ExecStop", "Service.ExecStopPost"} {
				want, err := words(gen.one(t, key))
				if err != nil {
					t.Fatal(err)
				}
				got, err := words(plain.one(t, key))
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("%s (-quadlet +plain):\n%s", key, d)
				}
			}
			for _, key := range []string{
				"Service.Type", "Service.NotifyAccess", "Service.KillMode", "Service.Delegate",
				"Service.SyslogIdentifier", "Service.Environment", "Service.Restart",
				"Unit.Description", "Install.WantedBy",
			} {
				if d := cmp.Diff(gen[key], plain[key]); d != "" {
					t.Errorf("%s (-quadlet +plain):\n%s", key, d)
				}
			}
			// Dependencies as sets: quadlet orders and repeats them its own way.
			for _, key := range []string{"Unit.After", "Unit.Requires", "Unit.Wants", "Unit.RequiresMountsFor"} {
				if d := cmp.Diff(wordSet(t, gen[key]), wordSet(t, plain[key])); d != "" {
					t.Errorf("%s (-quadlet +plain):\n%s", key, d)
				}
			}
		})
	}
}

func wordSet(t *testing.T, values []string) []string {
	t.Helper()
	var out []string
	for _, v := range values {
		ws, err := words(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			if !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	slices.Sort(out)
	return out
}
