package container

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/config"
	"seconf/host"
	"seconf/modules/units"
)

func vol(name string, edit func(v *config.NamedVolume)) *config.NamedVolume {
	v := &config.NamedVolume{Block: config.Block{Kind: config.KindVolume, Name: name}, Engine: "podman", VolumeName: name}
	if edit != nil {
		edit(v)
	}
	return v
}

func netw(name string, edit func(n *config.Network)) *config.Network {
	n := &config.Network{Block: config.Block{Kind: config.KindNetwork, Name: name}, Engine: "podman", NetworkName: name}
	if edit != nil {
		edit(n)
	}
	return n
}

func i64(i int64) *int64 { return &i }

// namedCases are volume and network blocks covering every attribute; the
// docker ones have none docker lacks.
var namedVolumes = []*config.NamedVolume{
	vol("plain", nil),
	vol("owned", func(v *config.NamedVolume) {
		v.VolumeName = "app-owned"
		v.User, v.Group = i64(1000), i64(100)
		v.Copy = boolp(false)
		v.Label = map[string]string{"org.example.app": "web site", "pct": "100% $HOME"}
	}),
	vol("tmp", func(v *config.NamedVolume) {
		v.Driver, v.Device, v.Type, v.Options = "local", "tmpfs", "tmpfs", "size=64m,mode=1777"
		v.Copy = boolp(true)
	}),
	vol("fromimage", func(v *config.NamedVolume) {
		v.Driver, v.Image = "image", "quay.io/fedora/fedora:41"
	}),
	vol("dockervol", func(v *config.NamedVolume) {
		v.Engine = "docker"
		v.Driver, v.Device, v.Type, v.Options = "local", "tmpfs", "tmpfs", "size=64m"
		v.Label = map[string]string{"a": "b"}
	}),
}

var namedNetworks = []*config.Network{
	netw("plainnet", nil),
	netw("full", func(n *config.Network) {
		n.NetworkName = "full-net"
		n.Driver, n.IPAMDriver = "bridge", "host-local"
		n.Subnet = []string{"10.89.1.0/24", "fd00:1::/64"}
		n.Gateway = []string{"10.89.1.1"}
		n.IPRange = []string{"10.89.1.128/25", "fd00:1::/80"}
		n.DNS = []string{"9.9.9.9"}
		n.Internal, n.IPv6, n.DisableDNS = boolp(true), boolp(true), boolp(false)
		n.Label = map[string]string{"org.example.net": "back end"}
		n.Options = map[string]string{"mtu": "1400", "isolate": "true"}
	}),
	netw("dockernet", func(n *config.Network) {
		n.Engine = "docker"
		n.Subnet, n.Gateway = []string{"172.30.0.0/16"}, []string{"172.30.0.1"}
		n.Internal, n.IPv6 = boolp(false), boolp(true)
		n.Options = map[string]string{"com.docker.network.bridge.name": "br-seconf"}
	}),
}

// namedRenderings renders a block's three ways: quadlet forced on, the
// plain service (no host), and docker's (for engine docker).
func namedRenderings(blk any) map[string]func() (*units.Unit, error) {
	on, off := true, false
	switch b := blk.(type) {
	case *config.NamedVolume:
		return map[string]func() (*units.Unit, error){
			"quadlet": func() (*units.Unit, error) { c := *b; c.Quadlet = &on; return RenderVolume(&c, nil) },
			"service": func() (*units.Unit, error) { c := *b; c.Quadlet = &off; return RenderVolume(&c, nil) },
		}
	case *config.Network:
		return map[string]func() (*units.Unit, error){
			"quadlet": func() (*units.Unit, error) { c := *b; c.Quadlet = &on; return RenderNetwork(&c, nil) },
			"service": func() (*units.Unit, error) { c := *b; c.Quadlet = &off; return RenderNetwork(&c, nil) },
		}
	}
	return nil
}

func namedBlocks() []struct {
	name, engine string
	blk          any
} {
	var out []struct {
		name, engine string
		blk          any
	}
	for _, v := range namedVolumes {
		out = append(out, struct {
			name, engine string
			blk          any
		}{v.Name, v.Engine, v})
	}
	for _, n := range namedNetworks {
		out = append(out, struct {
			name, engine string
			blk          any
		}{n.Name, n.Engine, n})
	}
	return out
}

// TestNamedGolden compares each block's renderings with
// testdata/golden/block-NAME.golden.
func TestNamedGolden(t *testing.T) {
	for _, b := range namedBlocks() {
		t.Run(b.name, func(t *testing.T) {
			var s strings.Builder
			for _, r := range []string{"quadlet", "service"} {
				u, err := namedRenderings(b.blk)[r]()
				if err != nil {
					fmt.Fprintf(&s, "=== %s ===\nerror: %v\n\n", r, err)
					continue
				}
				fmt.Fprintf(&s, "=== %s (%s, generated %v) ===\n%s\n", r, u.Name, u.Generated, show(u.Files, nil))
			}
			golden(t, filepath.Join("testdata", "golden", "block-"+b.name+".golden"), s.String())
		})
	}
}

// TestNamedQuadlet runs the real quadlet generator on every podman block's
// quadlet file: the oneshot service it generates is seconf's plain
// service, setting for setting, the create command flag for flag.
func TestNamedQuadlet(t *testing.T) {
	files := map[string][]byte{}
	plain := map[string][]byte{}
	for _, b := range namedBlocks() {
		if b.engine != "podman" {
			continue
		}
		q, err := namedRenderings(b.blk)["quadlet"]()
		if err != nil {
			t.Fatal(err)
		}
		files[path.Base(q.Files[0].Path)] = q.Files[0].Data
		p, err := namedRenderings(b.blk)["service"]()
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != q.Name {
			t.Errorf("%s: plain unit %s, quadlet's %s", b.name, p.Name, q.Name)
		}
		plain[p.Name] = p.Files[0].Data
	}
	generated := quadlet(t, files)
	for name, data := range plain {
		t.Run(name, func(t *testing.T) {
			sameService(t, withoutIgnore(t, generated[name]), data, "Service.ExecCondition")
		})
	}
}

// TestNamedVerify: systemd-analyze verify has nothing to say about the
// plain and docker services.
func TestNamedVerify(t *testing.T) {
	root := verifyRoot(t, "docker.service")
	all := map[string][]byte{}
	for _, b := range namedBlocks() {
		u, err := namedRenderings(b.blk)["service"]()
		if err != nil {
			t.Fatal(err)
		}
		all[u.Name] = u.Files[0].Data
	}
	verify(t, root, all)
}

// TestNamedParseBack: the create commands carry each value as one word,
// as configured.
func TestNamedParseBack(t *testing.T) {
	for _, b := range namedBlocks() {
		t.Run(b.name, func(t *testing.T) {
			u, err := namedRenderings(b.blk)["service"]()
			if err != nil {
				t.Fatal(err)
			}
			o := parseUnit(t, u.Files[0].Data)
			args, err := argv(o.one(t, "Service.ExecStart"))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			switch v := b.blk.(type) {
			case *config.NamedVolume:
				want = append(want, v.VolumeName)
				for k, val := range v.Label {
					if !hasPair(args, "--label", k+"="+val) {
						t.Errorf("no --label %s=%s in %q", k, val, args)
					}
				}
			case *config.Network:
				want = append(want, v.NetworkName)
				for _, s := range v.Subnet {
					if !hasPair(args, "--subnet", s) {
						t.Errorf("no --subnet %s in %q", s, args)
					}
				}
				for k, val := range v.Options {
					if !hasPair(args, "--opt", k+"="+val) {
						t.Errorf("no --opt %s=%s in %q", k, val, args)
					}
				}
			}
			if d := cmp.Diff(want, args[len(args)-1:]); d != "" {
				t.Errorf("the name ends the command (-want +got):\n%s", d)
			}
			if o.one(t, "Service.Type") != "oneshot" || o.one(t, "Service.RemainAfterExit") != "yes" {
				t.Errorf("not a oneshot that stays active:\n%s", u.Files[0].Data)
			}
		})
	}
}

// TestNamedRefused: what neither podman nor docker (nor quadlet) would
// take as configured is an error at the attribute.
func TestNamedRefused(t *testing.T) {
	cases := []struct {
		name string
		blk  any
		attr string
		want string
	}{
		{"name", vol("v", func(v *config.NamedVolume) { v.VolumeName = "_x" }), "volume_name", "not a name"},
		{"image without driver", vol("v", func(v *config.NamedVolume) { v.Image = "x" }), "image", "driver = \"image\" only"},
		{"image driver without image", vol("v", func(v *config.NamedVolume) { v.Driver = "image" }), "driver", "needs image"},
		{"type without device", vol("v", func(v *config.NamedVolume) { v.Type = "xfs" }), "type", "set device"},
		{"options without device", vol("v", func(v *config.NamedVolume) { v.Options = "size=1m" }), "options", "set device"},
		{"option with a space", vol("v", func(v *config.NamedVolume) { v.Device = "/dev/a b" }), "device", "cannot reach"},
		{"label key", vol("v", func(v *config.NamedVolume) { v.Label = map[string]string{"a=b": "c"} }), "label.a=b", "KEY=VALUE"},
		{"docker owner", vol("v", func(v *config.NamedVolume) { v.Engine = "docker"; v.User = i64(1) }), "user", "docker"},
		{"docker copy", vol("v", func(v *config.NamedVolume) { v.Engine = "docker"; v.Copy = boolp(true) }), "copy", "docker"},
		{"gateway without subnet", netw("n", func(n *config.Network) { n.Gateway = []string{"10.0.0.1"} }), "gateway", "subnet"},
		{"range without subnet", netw("n", func(n *config.Network) { n.IPRange = []string{"10.0.0.0/25"} }), "ip_range", "subnet"},
		{"subnet dash", netw("n", func(n *config.Network) { n.Subnet = []string{"-x"} }), "subnet[0]", "'-'"},
		{"docker dns", netw("n", func(n *config.Network) { n.Engine = "docker"; n.DNS = []string{"9.9.9.9"} }), "dns", "docker"},
		{"docker disable dns", netw("n", func(n *config.Network) { n.Engine = "docker"; n.DisableDNS = boolp(true) }), "disable_dns", "docker"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			for _, r := range namedRenderings(tc.blk) {
				if _, err = r(); err != nil {
					break
				}
			}
			var ae *attrError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.want) || ae.attr != tc.attr {
				t.Errorf("error %v, want one about %s mentioning %q", err, tc.attr, tc.want)
			}
		})
	}
}

// TestNamedUnits: the source makes one unit per block, named as quadlet
// names the service, a quadlet file where the host has quadlet, never
// enabled or started by itself.
func TestNamedUnits(t *testing.T) {
	cfg := &config.Config{Volumes: []*config.NamedVolume{vol("data", nil)}, Networks: []*config.Network{netw("lan", nil), netw("dn", func(n *config.Network) { n.Engine = "docker" })}}
	for _, tc := range []struct {
		name  string
		files []string
		want  []unitView
	}{
		{"without quadlet", nil, []unitView{
			{ID: "volume.data", Name: "data-volume.service", Paths: []string{"/etc/systemd/system/data-volume.service"}},
			{ID: "network.lan", Name: "lan-network.service", Paths: []string{"/etc/systemd/system/lan-network.service"}},
			{ID: "network.dn", Name: "dn-network.service", Paths: []string{"/etc/systemd/system/dn-network.service"}},
		}},
		{"with quadlet", []string{host.QuadletGenerators[0]}, []unitView{
			{ID: "volume.data", Name: "data-volume.service", Gen: true, Paths: []string{"/etc/containers/systemd/data.volume"}},
			{ID: "network.lan", Name: "lan-network.service", Gen: true, Paths: []string{"/etc/containers/systemd/lan.network"}},
			{ID: "network.dn", Name: "dn-network.service", Paths: []string{"/etc/systemd/system/dn-network.service"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, tc.files...)
			var got []*units.Unit
			for _, s := range []NamedSource{VolumeSource, NetworkSource} {
				us, diags := s.Units(context.Background(), cfg, h)
				if diags.HasErrors() {
					t.Fatal(diags)
				}
				got = append(got, us...)
				if d := s.Validate(cfg); d.HasErrors() {
					t.Fatal(d)
				}
			}
			if d := cmp.Diff(tc.want, view(got)); d != "" {
				t.Errorf("units (-want +got):\n%s", d)
			}
		})
	}
}
