package mount

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/host"
	"seconf/internal/testenv"
	"seconf/modules/units"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func mnt(name string, edit func(m *config.Mount)) *config.Mount {
	m := &config.Mount{
		Block: config.Block{
			Kind:      config.KindMount,
			Name:      name,
			DeclRange: hcl.Range{Filename: "/etc/seconf/host.hcl"},
		},
		What:    "/dev/disk/by-label/data",
		Where:   "/srv/data",
		Type:    "xfs",
		Enabled: true,
	}
	if edit != nil {
		edit(m)
	}
	return m
}

// cases have distinct mount points so that all units verify side by side.
var cases = []struct {
	name string
	m    *config.Mount
}{
	{"plain", mnt("plain", nil)},
	{"context", mnt("context", func(m *config.Mount) {
		m.Where = "/srv/context"
		m.SELinuxContext = "system_u:object_r:container_file_t:s0"
	})},
	{"context-mcs-and-options", mnt("mcs", func(m *config.Mount) {
		m.Where = "/srv/mcs"
		m.SELinuxContext = "system_u:object_r:container_file_t:s0:c1,c2"
		m.Options = []string{"noatime", "nodev"}
	})},
	{"options-only", mnt("opts", func(m *config.Mount) {
		m.Where = "/srv/opts"
		m.Options = []string{"ro", "noexec"}
	})},
	{"no-type", mnt("notype", func(m *config.Mount) {
		m.Where = "/srv/notype"
		m.Type = ""
	})},
	{"odd-path", mnt("odd", func(m *config.Mount) {
		m.What = "/dev/disk/by-label/my data%1"
		m.Where = "/srv/my data-1/.hidden/100%"
	})},
	{"network", mnt("nfs", func(m *config.Mount) {
		m.What = "server:/export"
		m.Where = "/srv/nfs"
		m.Type = "nfs4"
	})},
	{"netdev-option", mnt("netdev", func(m *config.Mount) {
		m.Where = "/srv/netdev"
		m.Options = []string{"_netdev"}
	})},
	{"disabled", mnt("disabled", func(m *config.Mount) {
		m.Where = "/srv/disabled"
		m.Enabled = false
	})},
}

func TestGolden(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Render(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, f := range files {
				fmt.Fprintf(&b, "--- %s (mode %04o) ---\n%s", f.Path, f.Mode, f.Data)
			}
			golden(t, filepath.Join("testdata", "golden", tc.name+".golden"), b.String())
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	testenv.Golden(t, path, got, *update)
}

// TestParseBack: each setting reads back as exactly the value configured.
func TestParseBack(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Render(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			checkParseBack(t, tc.m, files)
		})
	}
}

func checkParseBack(t testing.TB, m *config.Mount, files []units.File) {
	t.Helper()
	if len(files) != 1 {
		t.Fatalf("%d files", len(files))
	}
	f := files[0]
	if want := "/etc/systemd/system/" + config.MountUnitName(m.Where); f.Path != want || f.Mode != 0o644 {
		t.Errorf("file %s mode %o, want %s 0644", f.Path, f.Mode, want)
	}
	if !bytes.HasPrefix(f.Data, []byte(units.Header+" (")) {
		t.Errorf("no header: %q", f.Data)
	}
	opts, err := unit.Deserialize(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range opts {
		k := o.Section + "." + o.Name
		if _, dup := got[k]; dup {
			t.Errorf("%s set twice", k)
		}
		got[k] = o.Value
		if o.Section == "Mount" && o.Name != "Type" {
			got[k] = strings.ReplaceAll(o.Value, "%%", "%")
		}
	}
	var o []string
	if m.SELinuxContext != "" {
		o = append(o, `context="`+m.SELinuxContext+`"`)
	}
	o = append(o, m.Options...)
	want := map[string]string{
		"Unit.Description": "mount " + m.Name + " (seconf)",
		"Mount.What":       m.What,
		"Mount.Where":      m.Where,
	}
	if m.Type != "" {
		want["Mount.Type"] = m.Type
	}
	if len(o) > 0 {
		want["Mount.Options"] = strings.Join(o, ",")
	}
	if m.Enabled {
		want["Install.WantedBy"] = target(m)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("options (-want +got):\n%s\n%s", d, f.Data)
	}
}

// TestSystemdVerify runs the real systemd-analyze verify on every rendered
// mount unit (which also checks that the unit name matches Where=).
func TestSystemdVerify(t *testing.T) {
	units := map[string][]byte{}
	for _, tc := range cases {
		files, err := Render(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		units[path.Base(files[0].Path)] = files[0].Data
	}
	testenv.Verify(t, testenv.VerifyRoot(t, nil), units)
}

func TestRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(m *config.Mount)
		want string
	}{
		{"context with quote", func(m *config.Mount) { m.SELinuxContext = `a"b` }, "selinux_context"},
		{"context with space", func(m *config.Mount) { m.SELinuxContext = "a b" }, "selinux_context"},
		{"option with space", func(m *config.Mount) { m.Options = []string{"a b"} }, "mount option"},
		{"empty option", func(m *config.Mount) { m.Options = []string{""} }, "mount option"},
		{"what trailing backslash", func(m *config.Mount) { m.What = `/dev/x\` }, "what"},
		{"what trailing space", func(m *config.Mount) { m.What = "/dev/x " }, "what"},
		{"type with space", func(m *config.Mount) { m.Type = "x fs" }, "type"},
		{"where relative", func(m *config.Mount) { m.Where = "srv" }, "where"},
		{"where root", func(m *config.Mount) { m.Where = "/" }, "where"},
		// "srv-" + 246 + ".mount" is 256 bytes (255 loads in systemd-analyze verify).
		{"unit name over 255 bytes", func(m *config.Mount) { m.Where = "/srv/" + strings.Repeat("a", 246) }, "at most 255"},
		{"options line over 1 MiB", func(m *config.Mount) {
			m.Options = nil
			for i := 0; i < 20; i++ {
				m.Options = append(m.Options, strings.Repeat("o", 60_000))
			}
		}, "LONG_LINE_MAX"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(mnt("m", tc.edit))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestUnits(t *testing.T) {
	root := t.TempDir()
	h, err := host.New(root, host.Offline, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Mounts: []*config.Mount{
		mnt("data", func(m *config.Mount) { m.DeclRange.Filename = "/cfg/site/mounts.hcl" }),
		mnt("off", func(m *config.Mount) { m.Where = "/srv/off"; m.Enabled = false }),
	}}
	us, diags := Source{}.Units(context.Background(), cfg, h)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	type view struct {
		ID, Name         string
		Enable, Start    bool
		WantedBy         []string
		Generated        bool
		Paths            []string
		FirstLineOfFirst string
	}
	var got []view
	for _, u := range us {
		v := view{ID: u.ID, Name: u.Name, Enable: u.Enable, Start: u.Start, WantedBy: u.WantedBy, Generated: u.Generated}
		for _, f := range u.Files {
			v.Paths = append(v.Paths, f.Path)
		}
		v.FirstLineOfFirst, _, _ = strings.Cut(string(u.Files[0].Data), "\n")
		got = append(got, v)
	}
	want := []view{
		{ID: "mount.data", Name: "srv-data.mount", Enable: true, Start: true, WantedBy: []string{"local-fs.target"},
			Paths: []string{"/etc/systemd/system/srv-data.mount"}, FirstLineOfFirst: units.Header + " (mount.data). Edits are overwritten."},
		{ID: "mount.off", Name: "srv-off.mount",
			Paths: []string{"/etc/systemd/system/srv-off.mount"}, FirstLineOfFirst: units.Header + " (mount.off). Edits are overwritten."},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("units (-want +got):\n%s", d)
	}

}

// FuzzRenderMount: seed corpus under testdata/fuzz/.
func FuzzRenderMount(f *testing.F) {
	f.Fuzz(func(t *testing.T, what, where, typ, opt, context string) {
		for _, s := range []string{what, where, typ, opt, context} {
			// config lets through UTF-8 without C0 controls or DEL.
			if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
				t.Skip()
			}
		}
		m := mnt("fuzz", func(m *config.Mount) {
			m.What, m.Where, m.Type, m.SELinuxContext = what, where, typ, context
			m.Options = []string{opt}
		})
		files, err := Render(m)
		if refused := refusedMount(m); refused != (err != nil) {
			t.Fatalf("refused by the rules: %v; render error: %v", refused, err)
		}
		if err != nil {
			return
		}
		// systemd reads lines up to 1 MiB; go-systemd's parser, the checker
		// here, stops at 2048 bytes: such a rendering cannot be checked.
		for _, l := range strings.Split(string(files[0].Data), "\n") {
			if len(l) >= unit.SYSTEMD_LINE_MAX { // the line and its newline must fit
				t.Skip("a line longer than the checker reads")
			}
		}
		checkParseBack(t, m, files)
	})
}

// refusedMount restates the refusals independently of the code.
func refusedMount(m *config.Mount) bool {
	control := func(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }
	space := func(s string) bool { return strings.IndexFunc(s, unicode.IsSpace) >= 0 }
	raw := func(s string) bool {
		return s == "" || s != strings.TrimSpace(s) || strings.HasSuffix(s, `\`) || control(s)
	}
	typeOK := strings.Trim(m.Type, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") == ""
	o := m.Options[0]
	// systemd takes unit names of at most 255 bytes.
	long := len(unit.UnitNamePathEscape(m.Where)+".mount") > 255
	return long || raw(m.What) || strings.HasPrefix(m.What, "-") || raw(m.Where) || !path.IsAbs(m.Where) || path.Clean(m.Where) != m.Where || m.Where == "/" ||
		!typeOK || o == "" || space(o) || control(o) || strings.HasSuffix(o, `\`) ||
		m.SELinuxContext != "" && (strings.ContainsAny(m.SELinuxContext, `"\`) || space(m.SELinuxContext) || control(m.SELinuxContext))
}
