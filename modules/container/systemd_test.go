package container

import (
	"bytes"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/config"
	"seconf/host"
	"seconf/modules/units"
)

// standIns are the units the rendered units refer to that a bare root lacks.
var standIns = []string{"docker.service", "db.service"}

// testVolume and testNetwork are the blocks namedLinks stands for.
func testVolume() *config.NamedVolume {
	uid, gid := int64(1000), int64(1000)
	return &config.NamedVolume{
		Block:  config.Block{Kind: config.KindVolume, Name: "appdata"},
		Engine: "podman", VolumeName: "app-data", User: &uid, Group: &gid,
		Label: map[string]string{"org.example.app": "web site"},
	}
}

func testNetwork() *config.Network {
	no := false
	return &config.Network{
		Block:  config.Block{Kind: config.KindNetwork, Name: "lan"},
		Engine: "podman", NetworkName: "lan", Subnet: []string{"10.89.0.0/24"}, Gateway: []string{"10.89.0.1"},
		Internal: &no, Options: map[string]string{"mtu": "1400"},
	}
}

// namedUnits renders the test volume and network as plain podman
// services, for systemd-analyze verify beside the containers using them.
func namedUnits(t *testing.T, h *host.Host) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	v, err := RenderVolume(testVolume(), h)
	if err != nil {
		t.Fatal(err)
	}
	n, err := RenderNetwork(testNetwork(), h)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*units.Unit{v, n} {
		for _, f := range u.Files {
			out[path.Base(f.Path)] = f.Data
		}
	}
	return out
}

// TestSystemdVerify runs the real systemd-analyze verify on every rendered
// service, with the volume and network services the named cases require;
// it must have nothing at all to say.
func TestSystemdVerify(t *testing.T) {
	for _, r := range renderings[1:] {
		t.Run(r.name, func(t *testing.T) {
			root := verifyRoot(t, standIns...)
			units := namedUnits(t, nil)
			for _, tc := range renderCases {
				if tc.podman && r.name == "docker service" {
					continue
				}
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

// quadletNamed renders the test volume and network as quadlet files.
func quadletNamed(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	on := true
	v, n := testVolume(), testNetwork()
	v.Quadlet, n.Quadlet = &on, &on
	vu, err := RenderVolume(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	nu, err := RenderNetwork(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*units.Unit{vu, nu} {
		out[path.Base(u.Files[0].Path)] = u.Files[0].Data
	}
	return out
}

// generate renders every quadlet case and runs podman's real quadlet
// generator on the files (with the volume and network the named cases
// use), returning the quadlet files and the generated services by name
// without .service.
func generate(t *testing.T) (containers, services map[string][]byte) {
	t.Helper()
	containers = quadletNamed(t)
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
			// Every option reaches podman as the table says quadlet passes it.
			checkRunOptions(t, tc.c, args[:len(args)-len(tc.c.Command)-1], false)
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
// podman command (each flag with the same values in the same order, the
// same words; quadlet adds some flags from a Go map, in random order), the
// same stop commands, and every other setting of [Unit], [Service] and
// [Install] alike, dependencies as sets. The two renderings cannot drift
// apart.
func TestPlainServiceMatchesQuadlet(t *testing.T) {
	_, services := generate(t)
	for _, tc := range quadletCases() {
		t.Run(tc.name, func(t *testing.T) {
			files, err := RenderPodmanService(tc.c, tc.links)
			if err != nil {
				t.Fatal(err)
			}
			sameService(t, services[tc.c.Name], fileByExt(t, files, ".service").Data, "Service.ExecStartPre")
		})
	}
	// The volume and network: the plain oneshot services are what quadlet
	// generates from the .volume and .network files.
	plain := namedUnits(t, nil)
	for _, name := range []string{"appdata-volume", "lan-network"} {
		t.Run(name, func(t *testing.T) {
			sameService(t, withoutIgnore(t, services[name]), plain[name+".service"], "Service.ExecCondition")
		})
	}
}

// withoutIgnore is a create service quadlet generated, without the
// --ignore of its create command: podman 4.3, which runs seconf's plain
// services on Debian 12, has no create --ignore, and their ExecCondition=
// does its work there. quadlet puts --ignore anywhere among the flags.
func withoutIgnore(t *testing.T, unit []byte) []byte {
	t.Helper()
	out := bytes.Replace(unit, []byte(" --ignore "), []byte(" "), 1)
	if bytes.Equal(out, unit) {
		t.Fatalf("quadlet's service has no create --ignore:\n%s", unit)
	}
	return out
}

// sameService compares a unit quadlet generated with seconf's plain one.
// SourcePath= (quadlet's only) and the given keys (the plain service's
// only) are left out.
func sameService(t *testing.T, genData, plainData []byte, plainOnly ...string) {
	t.Helper()
	if genData == nil {
		t.Fatal("quadlet generated no such service")
	}
	gen, plain := parseUnit(t, genData), parseUnit(t, plainData)
	keys := map[string]bool{}
	for k := range gen {
		keys[k] = true
	}
	for k := range plain {
		keys[k] = true
	}
	for key := range keys {
		switch {
		case strings.HasPrefix(key, "X-"), key == "Unit.SourcePath", slices.Contains(plainOnly, key):
		case key == "Service.ExecStart":
			sameCommand(t, gen.one(t, key), plain.one(t, key))
		case slices.Contains([]string{"Unit.After", "Unit.Requires", "Unit.Wants", "Unit.RequiresMountsFor", "Install.WantedBy"}, key):
			// quadlet orders and repeats them its own way
			if d := cmp.Diff(wordSet(t, gen[key]), wordSet(t, plain[key])); d != "" {
				t.Errorf("%s (-quadlet +plain):\n%s", key, d)
			}
		default:
			var g, p [][]string
			for _, v := range gen[key] {
				ws, err := words(v)
				if err != nil {
					t.Fatal(err)
				}
				g = append(g, ws)
			}
			for _, v := range plain[key] {
				ws, err := words(v)
				if err != nil {
					t.Fatal(err)
				}
				p = append(p, ws)
			}
			if d := cmp.Diff(g, p); d != "" {
				t.Errorf("%s (-quadlet +plain):\n%s", key, d)
			}
		}
	}
}

// sameCommand compares two run commands: the same words, and each flag
// with the same values in the same order (so the same command to podman,
// whose options do not depend on their order across flags).
func sameCommand(t *testing.T, genLine, plainLine string) {
	t.Helper()
	g, err := words(genLine)
	if err != nil {
		t.Fatal(err)
	}
	p, err := words(plainLine)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(slices.Sorted(slices.Values(g)), slices.Sorted(slices.Values(p))); d != "" {
		t.Errorf("ExecStart words (-quadlet +plain):\n%s\nquadlet: %s\nplain:   %s", d, genLine, plainLine)
		return
	}
	if d := cmp.Diff(flagValues(g), flagValues(p)); d != "" {
		t.Errorf("ExecStart flags (-quadlet +plain):\n%s\nquadlet: %s\nplain:   %s", d, genLine, plainLine)
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
