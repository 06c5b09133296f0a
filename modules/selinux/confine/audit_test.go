package confine

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/config"
	"seconf/internal/testenv"
)

func readAudit(t *testing.T) []Denial {
	t.Helper()
	data, err := os.ReadFile("testdata/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	return ParseAudit(data)
}

// TestParseAudit reads records as auditd, ausearch -i and the kernel log
// write them (testdata/audit.log), joins PATH and CWD records to their AVC,
// decodes hex, and skips grants and lines that are not records.
func TestParseAudit(t *testing.T) {
	type row struct {
		Event, Perms, Target, Class, Path, Name string
		Ino                                     uint64
		Permissive                              bool
	}
	var got []row
	for _, d := range readAudit(t) {
		got = append(got, row{d.Event, strings.Join(d.Perms, " "), d.Target, d.Class, d.Path, d.Name, d.Ino, d.Permissive})
	}
	want := []row{
		{"1732700000.123:812", "add_name write", "var_log_t", "dir", "/var/log/fluent", "buffer.log", 131090, false},
		{"1732700001.500:813", "read", "apt_var_log_t", "file", "/var/log/apt/history.log", "history.log", 131200, false},
		{"1732700001.501:814", "open", "apt_var_log_t", "file", "/var/log/apt/history.log", "", 131200, false},
		{"1732700002.000:815", "sys_admin", "seconf_logger_t", "capability", "", "", 0, false},
		{"1732700003.000:816", "read", "shadow_t", "file", "", "shadow", 2, false},
		{"1732700004.000:817", "getattr", "var_lib_t", "file", "/var/lib/app/my data.db", "", 3, false},
		{"1732700005.000:818", "write", "tmp_t", "dir", "", "tmp", 4, false},
		{"1732700007.000:900", "read", "proc_t", "file", "", "meminfo", 4026532000, true},
		{"11/27/2026 10:00:08.000:901", "write", "var_lib_t", "file", "/var/lib/app/state", "", 5, false},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

// TestJournalToAudit: journald keeps an audit record's type and id in
// fields of their own (MESSAGE is "TYPE text"); a kernel message keeps its
// stamp. Both read back as the same denial, with the PATH record joined.
func TestJournalToAudit(t *testing.T) {
	journal := strings.Join([]string{
		`{"__REALTIME_TIMESTAMP":"1732700000123456","_TRANSPORT":"audit","_AUDIT_TYPE":"1400","_AUDIT_TYPE_NAME":"AVC","_AUDIT_ID":"812","MESSAGE":"AVC avc:  denied  { read } for  pid=4242 comm=\"ruby\" name=\"history.log\" dev=\"vda1\" ino=1 scontext=system_u:system_r:seconf_logger_t:s0:c1,c2 tcontext=system_u:object_r:apt_var_log_t:s0 tclass=file permissive=0"}`,
		`{"__REALTIME_TIMESTAMP":"1732700000123999","_TRANSPORT":"audit","_AUDIT_TYPE":"1302","_AUDIT_TYPE_NAME":"PATH","_AUDIT_ID":"812","MESSAGE":"PATH item=0 name=\"/var/log/apt/history.log\" inode=1 nametype=NORMAL"}`,
		`{"_TRANSPORT":"kernel","MESSAGE":"audit: type=1400 audit(1732700007.000:900): avc:  denied  { read } for  pid=4253 comm=\"ruby\" name=\"meminfo\" dev=\"proc\" ino=1 scontext=system_u:system_r:seconf_logger_t:s0:c1,c2 tcontext=system_u:object_r:proc_t:s0 tclass=file permissive=1"}`,
		`{"_TRANSPORT":"audit","MESSAGE":[1,2,3]}`,
		`not json`,
	}, "\n")
	ds := ParseAudit(JournalToAudit([]byte(journal)))
	if len(ds) != 2 {
		t.Fatalf("%d denials, want 2: %+v", len(ds), ds)
	}
	if ds[0].Path != "/var/log/apt/history.log" || ds[0].Target != "apt_var_log_t" {
		t.Errorf("first denial: %+v", ds[0])
	}
	if ds[1].Target != "proc_t" || !ds[1].Permissive {
		t.Errorf("second denial: %+v", ds[1])
	}
}

// TestJournalBoots: the kernel numbers audit events from 1 again at every
// boot, and the journal keeps several boots: an event's records are those
// of its boot, not another event's of the same number.
func TestJournalBoots(t *testing.T) {
	entry := func(boot, typ, msg string) string {
		return fmt.Sprintf(`{"_BOOT_ID":%q,"_TRANSPORT":"audit","_AUDIT_TYPE_NAME":%q,"_AUDIT_ID":"127","MESSAGE":%q}`, boot, typ, typ+" "+msg)
	}
	avc := `avc:  denied  { write } for  pid=1 comm="touch" name="a.log" dev="vda1" ino=1 scontext=system_u:system_r:seconf_logger_t:s0:c1,c2 tcontext=system_u:object_r:var_log_t:s0 tclass=file permissive=0`
	journal := strings.Join([]string{
		entry("b1", "AVC", avc),
		entry("b1", "PATH", `item=0 name="/var/log/one/a.log" inode=1 nametype=NORMAL`),
		entry("b2", "AVC", avc),
		entry("b2", "PATH", `item=0 name="/var/log/two/a.log" inode=1 nametype=NORMAL`),
	}, "\n")
	var got []string
	for _, d := range ParseAudit(JournalToAudit([]byte(journal))) {
		got = append(got, d.Path)
	}
	if d := cmp.Diff([]string{"/var/log/one/a.log", "/var/log/two/a.log"}, got); d != "" {
		t.Error(d)
	}
}

// avcContainer is the container the denials in testdata/audit.log are
// read against: /var/log read-only, and a database directory.
func avcContainer() *config.Container {
	c := container("logger",
		config.Volume{Source: "/var/log", Target: "/var/log", ReadOnly: true},
		config.Volume{Source: "/srv/app", Target: "/var/lib/app"})
	for i := range c.Volumes {
		c.Volumes[i].Range.Filename = "host.hcl"
		c.Volumes[i].Range.Start.Line = 10 + 5*i
	}
	return c
}

func where(c *config.Container) func(int) string {
	return func(i int) string { return fmt.Sprintf("host.hcl:%d", c.Volumes[i].Range.Start.Line) }
}

// TestProposeGolden: the declaration first (read_only = false for the
// write on /var/log, a volume of its own for apt's differently labelled
// logs and for a path under the database volume), then rules for a module
// of one's own, sys_admin and shadow_t flagged as dangerous; another
// container's denial left out.
func TestProposeGolden(t *testing.T) {
	c := avcContainer()
	in := input(t, c)
	// /srv/app is labelled as /var/lib's content is.
	in.Labels["/srv/app"] = Label{Context: "system_u:object_r:var_t:s0"}
	denials := readAudit(t)
	props := Propose(in, c.SELinuxType, denials)
	got := Report(c, c.SELinuxType, "testdata/audit.log", denials, props, where(c))
	testenv.Golden(t, filepath.Join("testdata", "avc-report.txt"), got, *update)

	// The same denials in any order give the same report.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10; i++ {
		rng.Shuffle(len(denials), func(a, b int) { denials[a], denials[b] = denials[b], denials[a] })
		again := Report(c, c.SELinuxType, "testdata/audit.log", denials, Propose(in, c.SELinuxType, denials), where(c))
		if d := cmp.Diff(got, again); d != "" {
			t.Fatalf("order changes the report:\n%s", d)
		}
	}
}

func TestPropose(t *testing.T) {
	const s = "system_u:system_r:seconf_x_t:s0:c1,c2"
	deny := func(perms, target, class string, mod func(*Denial)) Denial {
		d := Denial{Perms: strings.Fields(perms), SContext: s, Source: "seconf_x_t", TContext: "system_u:object_r:" + target + ":s0", Target: target, Class: class}
		if target == "seconf_x_t" {
			d.TContext = s
		}
		if mod != nil {
			mod(&d)
		}
		return d
	}
	tests := []struct {
		name    string
		network string
		d       Denial
		want    Proposal
	}{
		{"bind without a network", "none", deny("name_bind", "http_port_t", "tcp_socket", func(d *Denial) { d.Port = 80 }),
			Proposal{Kind: "network", Volume: -1}},
		{"bind", "", deny("name_bind", "http_port_t", "udp_socket", func(d *Denial) { d.Port = 8080 }),
			Proposal{Kind: "publish", Volume: -1, Publish: "8080:8080/udp"}},
		{"connect", "", deny("name_connect", "http_port_t", "tcp_socket", func(d *Denial) { d.Port = 443 }),
			Proposal{Kind: "rule", Volume: -1, RuleTarget: "http_port_t", RuleClass: "tcp_socket", Perms: []string{"name_connect"}}},
		{"ptrace", "", deny("ptrace", "seconf_x_t", "process", nil),
			Proposal{Kind: "rule", Volume: -1, RuleTarget: "self", RuleClass: "process", Perms: []string{"ptrace"}, Danger: "ptrace reads and changes other processes"}},
		{"relabel", "", deny("relabelto", "var_log_t", "file", nil),
			Proposal{Kind: "rule", Volume: -1, RuleTarget: "var_log_t", RuleClass: "file", Perms: []string{"relabelto"}, Danger: "relabelling makes files look like others"}},
		{"write a program", "", deny("write", "bin_t", "file", nil),
			Proposal{Kind: "rule", Volume: -1, RuleTarget: "bin_t", RuleClass: "file", Perms: []string{"write"}, Danger: "bin_t labels programs the host runs"}},
		{"write the host's configuration", "", deny("write", "etc_t", "file", nil),
			Proposal{Kind: "rule", Volume: -1, RuleTarget: "etc_t", RuleClass: "file", Perms: []string{"write"}, Danger: "etc_t labels the host's configuration (/etc: passwd, sudoers, pam.d)"}},
		{"read the host's configuration", "", deny("read", "etc_t", "file", nil),
			Proposal{Kind: "rule", Volume: -1, RuleTarget: "etc_t", RuleClass: "file", Perms: []string{"read"}}},
		{"setenforce", "", deny("setenforce", "security_t", "security", nil),
			Proposal{Kind: "rule", Volume: -1, RuleTarget: "security_t", RuleClass: "security", Perms: []string{"setenforce"}, Danger: "setenforce switches SELinux off; the security class controls the kernel's security state"}},
		{"granted already", "", deny("read", "var_t", "file", func(d *Denial) { d.Path = "/data/x" }),
			Proposal{Kind: "granted", Volume: 0}},
		{"path under a volume", "", deny("read", "etc_t", "file", func(d *Denial) { d.Path = "/data/conf/a.conf" }),
			Proposal{Kind: "volume", Volume: -1, Source: "/srv/d/conf", Target: "/data/conf", ReadOnly: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := container("x", config.Volume{Source: "/srv/d", Target: "/data"})
			c.Network = tc.network
			got := Propose(input(t, c), "seconf_x_t", []Denial{tc.d})
			if len(got) != 1 {
				t.Fatalf("%d proposals: %+v", len(got), got)
			}
			got[0].Why = nil
			if d := cmp.Diff(tc.want, got[0]); d != "" {
				t.Error(d)
			}
		})
	}
}

// FuzzParseAudit: any bytes parse without a panic into denials that each
// have permissions, both types and a class, and a path that is absolute or
// absent; proposals and the report follow from them without a panic.
func FuzzParseAudit(f *testing.F) {
	data, err := os.ReadFile("testdata/audit.log")
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f.Add([]byte(l))
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		ds := ParseAudit(data)
		for _, d := range ds {
			if len(d.Perms) == 0 || d.Source == "" || d.Target == "" || d.Class == "" {
				t.Fatalf("incomplete denial %+v", d)
			}
			if d.Path != "" && !strings.HasPrefix(d.Path, "/") {
				t.Fatalf("relative path %q", d.Path)
			}
		}
		c := avcContainer()
		props := Propose(input(t, c), c.SELinuxType, ds)
		Report(c, c.SELinuxType, "fuzz", ds, props, where(c))
	})
}

// TestParseAuditInterpreted: ausearch -i writes a name, path or comm as it
// is, never in hex: "db", "2024", "cafe" and "ed" are names, not hex to
// decode, and a path with a space is one path up to the next key=value.
func TestParseAuditInterpreted(t *testing.T) {
	const ctx = ` scontext=system_u:system_r:seconf_logger_t:s0:c1,c2 tcontext=system_u:object_r:var_lib_t:s0 tclass=`
	log := strings.Join([]string{
		`type=AVC msg=audit(11/27/2026 10:00:09.000:902) : avc:  denied  { write } for  pid=4254 comm=ed name=db dev="vda1" ino=6` + ctx + `dir permissive=0 `,
		`type=AVC msg=audit(11/27/2026 10:00:10.000:903) : avc:  denied  { read } for  pid=4254 comm=ruby name=2024 dev="vda1" ino=7` + ctx + `dir permissive=0 `,
		`type=CWD msg=audit(11/27/2026 10:00:10.000:903) : cwd=/srv/my app `,
		`type=PATH msg=audit(11/27/2026 10:00:10.000:903) : item=0 name=logs/2024 inode=7 dev=fe:01 mode=dir,755 ouid=root ogid=root rdev=00:00 obj=system_u:object_r:var_lib_t:s0 nametype=NORMAL `,
		`type=AVC msg=audit(11/27/2026 10:00:11.000:904) : avc:  denied  { getattr } for  pid=4254 comm=ruby path=/var/lib/app/my data.db dev="vda1" ino=9` + ctx + `file permissive=0 `,
		`type=AVC msg=audit(11/27/2026 10:00:12.000:905) : avc:  denied  { read } for  pid=4254 comm=ruby name=cafe dev="vda1" ino=8` + ctx + `file permissive=0 `,
		// The raw log's unquoted values are hex all the same.
		`type=AVC msg=audit(1732700013.000:906): avc:  denied  { read } for  pid=4254 comm="ruby" name=6D792066696C65 dev="vda1" ino=11` + ctx + `file permissive=0`,
	}, "\n")
	type row struct{ Comm, Name, Path string }
	var got []row
	for _, d := range ParseAudit([]byte(log)) {
		got = append(got, row{d.Comm, d.Name, d.Path})
	}
	want := []row{
		{"ed", "db", ""},
		{"ruby", "2024", "/srv/my app/logs/2024"},
		{"ruby", "", "/var/lib/app/my data.db"},
		{"ruby", "cafe", ""},
		{"ruby", "my file", ""},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

// TestParseAuditLongLine: a line longer than any buffer (a log that is not
// only audit records, a journal entry with a huge message) is skipped, and
// the denials after it are read.
func TestParseAuditLongLine(t *testing.T) {
	avc := func(n int) string {
		return fmt.Sprintf(`type=AVC msg=audit(1732700000.000:%d): avc:  denied  { read } for  pid=1 comm="r" name="f" dev="v" ino=1 scontext=system_u:system_r:seconf_logger_t:s0:c1,c2 tcontext=system_u:object_r:var_lib_t:s0 tclass=file permissive=0`, n)
	}
	long := strings.Repeat("x", 5<<20)
	if got := len(ParseAudit([]byte(avc(1) + "\n" + long + "\n" + avc(2) + "\n"))); got != 2 {
		t.Errorf("audit.log: %d denial(s), want 2", got)
	}
	entry := func(id, msg string) string {
		return fmt.Sprintf(`{"_AUDIT_TYPE_NAME":"AVC","_AUDIT_ID":%q,"MESSAGE":%q}`, id, msg)
	}
	journal := entry("1", "AVC "+avc(1)[len("type=AVC msg=audit(1732700000.000:1): "):]) + "\n" +
		`{"MESSAGE":"` + long + `"}` + "\n" +
		entry("2", "AVC "+avc(2)[len("type=AVC msg=audit(1732700000.000:2): "):]) + "\n"
	if got := len(ParseAudit(JournalToAudit([]byte(journal)))); got != 2 {
		t.Errorf("journal: %d denial(s), want 2", got)
	}
}
