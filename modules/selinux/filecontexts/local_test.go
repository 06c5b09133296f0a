package filecontexts

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
)

// TestLocalAndEquivalencesAgreeWithMatchpathcon adds to a copy of this
// machine's policy what semanage fcontext -a and -a -e write (a .local and
// a .subs), and compares the answers with libselinux's on paths those
// lines concern and on a sample of the machine's paths. It also checks
// that the additions changed answers, so that the comparison is about them.
func TestLocalAndEquivalencesAgreeWithMatchpathcon(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	fc := machinePolicy(t)
	before := openDir(t, fc)
	local := strings.Join([]string{
		"/srv/data(/.*)?\tsystem_u:object_r:container_file_t:s0",
		"/etc/fluentd(/.*)?\tsystem_u:object_r:container_file_t:s0",
		"/var/log/app\\.log\t--\tsystem_u:object_r:tmp_t:s0",
		"/var/log\t-d\tsystem_u:object_r:etc_t:s0", // exact: overrides the policy's exact /var/log
		"/usr/bin/.*\\.sh\t--\tsystem_u:object_r:usr_t:s0",
		"/opt/app/run(/.*)?\t<<none>>",
		"/home/[^/]+/vm(/.*)?\tsystem_u:object_r:tmp_t:s0",
	}, "\n") + "\n"
	subs := "/srv/www /var/www\n/data /var/lib\n/data/db /srv/data\n/web /srv/www\n"
	if err := os.WriteFile(fc+".local", []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fc+".subs", []byte(subs), 0o644); err != nil {
		t.Fatal(err)
	}
	after := openDir(t, fc)

	paths := []string{
		"/srv/data", "/srv/data/x", "/srv/datax", "/etc/fluentd", "/etc/fluentd/fluent.conf",
		"/var/log/app.log", "/var/log/appxlog", "/var/log", "/var/log/", "/usr/bin/run.sh", "/usr/bin/run",
		"/opt/app/run", "/opt/app/run/x.pid", "/opt/app", "/home/u/vm/disk.img", "/home/u/vmx",
		"/srv/www", "/srv/www/index.html", "/srv/www/cgi-bin/x", "/data", "/data/mysql", "/data/db/x",
		"/web/x", "/lib/systemd/x", "/data/db", "/srv/www//a/",
	}
	var changed []string
	for _, p := range paths {
		for _, ft := range []FileType{Regular, Directory} {
			if ours(before, p, ft) != ours(after, p, ft) {
				changed = append(changed, p)
			}
		}
	}
	if len(changed) < len(paths)/2 {
		t.Errorf(".local and .subs changed only %v of %v", changed, paths)
	}
	sampled := sample(walk(machineDirs...), 5000)
	for _, ft := range []FileType{Regular, Directory, Symlink, CharDevice} {
		compareWithTool(t, after, fc, ft, append(paths, sampled...))
	}
}

// TestExoticRegexesAgreeWithMatchpathcon: constructs real policies do not
// use but libselinux accepts (counted repeats, POSIX classes, \d \w \s,
// \Q..\E, case folding, lazy quantifiers, alternations), on generated
// paths, against matchpathcon; the file must also pass setfiles -c.
func TestExoticRegexesAgreeWithMatchpathcon(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	exprs := []string{
		`/x/a{2,3}b`, `/x/c{2}`, `/x/d{1,}e`, `/x/e[[:digit:]]+`, `/x/f[[:alpha:][:digit:]_]*`, `/x/g\d\d`, `/x/h\w+`,
		`/x/i\s?j`, `/x/\Qk.l\E`, `/x/(?i)mn`, `/x/o.*?p`, `/x/q(r|s|)t`, `/x/u[^/]+?/v`, `/x/w\.x\+y`,
		`/x/z(?:ab)+`, `/x/ac|/x/ad`, `/x/ae[\]]`, `/x/af[]a]`, `/x/ag[a-c-]`, `/x/ah\x41`, `/x/ai[\d]`,
		`/x/aj\S+`, `/x/ak{,2}`, `/x/al{x}`, `/x/am\D\W`, `/x/an(?s:.)`, `/x/ao\b`, `/x/ap$`, `/x/^aq`,
		`/x/ar\z`, `/x/as\Z`, `/x/at\A`, `/x/au\N`, `/x/av\e`, `/x/aw\H`, `/x/ax\V`, `/x/ay(?m)`, `/x/az(?m:$)b`,
	}
	var lines []string
	for i, e := range exprs {
		lines = append(lines, e+"\tsystem_u:object_r:"+[]string{"etc_t", "tmp_t", "bin_t", "lib_t"}[i%4]+":s0")
	}
	data := "/.*\tsystem_u:object_r:default_t:s0\n" + strings.Join(lines, "\n") + "\n"
	fc := writeFiles(t, map[string]string{"file_contexts": data})
	if ok, msg := setfilesCheck(t, fc); !ok {
		t.Fatalf("setfiles -c refused the file: %s", msg)
	}
	s := openDir(t, fc)
	paths := specPaths(t, s)
	paths = append(paths, "/x/aeé", "/x/aj\xff\xfe", "/x/as\n", "/x/ar\n", "/x/ap\n", "/x/mN", "/x/MN", "/x/aw\xa0", "/x/au\n", "/x/ay\nzz", "/x/az\nb", "/x/azb")
	for _, ft := range []FileType{Regular, Directory} {
		compareWithTool(t, s, fc, ft, paths)
	}
}

// TestModeZeroAsSelabelLookup: with mode 0 every spec applies, typed or
// not, even for a path that exists (matchpathcon would lstat it, so this
// asks selabel_lookup, which passes the mode as given).
func TestModeZeroAsSelabelLookup(t *testing.T) {
	bin := testenv.Tool(t, "", "selabel_lookup", "install selinux-utils")
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fc := writeFiles(t, map[string]string{"file_contexts": "/.*\t" + ctx("default_t") + "\n" +
		file + "\t-d\t" + ctx("etc_t") + "\n" + dir + "\t--\t" + ctx("tmp_t") + "\n"})
	s := openDir(t, fc)
	modes := map[FileType]int{Any: 0, Regular: syscall.S_IFREG, Directory: syscall.S_IFDIR, Symlink: syscall.S_IFLNK, CharDevice: syscall.S_IFCHR}
	for _, p := range []string{file, dir} {
		for ft, mode := range modes {
			res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: bin, Args: []string{"-b", "file", "-f", fc, "-k", p, "-t", strconv.Itoa(mode)}})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSpace(strings.TrimPrefix(string(res.Stdout), "Default context:"))
			got := "<<none>>"
			if c, ok := s.Lookup(p, ft); ok {
				got = c.String()
			}
			if got != want {
				t.Errorf("%s mode %#o: got %s, selabel_lookup says %s", p, mode, got, want)
			}
		}
	}
	if c, _ := s.Lookup(file, Any); c.Type != "etc_t" {
		t.Errorf("mode 0 on a file with a -d spec: %v", c)
	}
}
