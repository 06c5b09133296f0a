package selinux

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/host"
	"seconf/internal/testenv"
)

// TestLocalRecordsAsSemanageWrites makes local customizations with the
// real semanage on a private root, then reads them back as seconf does,
// and writes them again: the bytes must be libsemanage's.
func TestLocalRecordsAsSemanageWrites(t *testing.T) {
	root := testenv.PolicyRoot(t)
	bin, err := host.Tool("semanage")
	if err != nil {
		t.Fatal(err)
	}
	records := strings.Join([]string{
		"boolean -m -1 httpd_can_network_connect",
		"boolean -m -0 httpd_enable_cgi",
		"port -a -t http_port_t -p tcp 5005",
		"port -a -t http_port_t -p udp 6000-6010",
		"fcontext -a -f a -t httpd_sys_content_t /srv/data(/.*)?",
		"fcontext -a -f d -t var_t /srv/www",
		"fcontext -a -f f -t etc_t /srv/www/conf",
		"fcontext -a -e /usr/libexec/podman /usr/lib/podman",
		"fcontext -a -e /var/www /srv/site",
	}, "\n") + "\n"
	_, err = host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: bin, Args: []string{"import", "-N"}, Stdin: []byte(records),
		Sandbox: &host.Sandbox{Binds: []host.Bind{
			{Src: filepath.Join(root, "etc/selinux"), Dst: "/etc/selinux"},
			{Src: filepath.Join(root, "var/lib/selinux"), Dst: "/var/lib/selinux"},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readLocalRecords(host.NewFS(root), "default")
	if err != nil {
		t.Fatal(err)
	}
	want := &localRecords{
		Booleans: map[string]bool{"httpd_can_network_connect": true, "httpd_enable_cgi": false},
		Ports:    map[portKey]string{{"tcp", 5005, 5005}: "http_port_t", {"udp", 6000, 6010}: "http_port_t"},
		FContexts: map[fcKey]string{
			{"/srv/data(/.*)?", "all"}: "httpd_sys_content_t", {"/srv/www", "directory"}: "var_t", {"/srv/www/conf", "file"}: "etc_t",
			{"/usr/lib/podman", "equal"}: "/usr/libexec/podman", {"/srv/site", "equal"}: "/var/www",
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("records read back (-want +got):\n%s", d)
	}
	active := filepath.Join(root, "var/lib/selinux/default/active")
	for name, data := range map[string][]byte{
		filepath.Join(active, booleansLocal): formatBooleansLocal(got.Booleans),
		filepath.Join(active, portsLocal):    formatPortsLocal(got.Ports, true),
		filepath.Join(active, fcLocal):       formatFContextsLocal(got.FContexts, true),
	} {
		real, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(string(real), string(data)); d != "" {
			t.Errorf("%s as seconf writes it (-semanage +seconf):\n%s", filepath.Base(name), d)
		}
	}
	// semanage writes equivalences in the order of a Python dict: as added.
	real, _ := os.ReadFile(filepath.Join(root, "etc/selinux/default/contexts/files/file_contexts.subs"))
	back := map[fcKey]string{}
	if err := parseSubs(real, back); err != nil || len(back) != 2 {
		t.Errorf("file_contexts.subs %q read as %v, %v", real, back, err)
	}
}
