package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"seconf/internal/testenv"
)

const userData = "../../examples/cloud-init/user-data.yaml"

type cloudConfig struct {
	Packages   []string `yaml:"packages"`
	WriteFiles []struct {
		Path        string `yaml:"path"`
		Owner       string `yaml:"owner"`
		Content     string `yaml:"content"`
		Encoding    string `yaml:"encoding"`
		Permissions string `yaml:"permissions"`
	} `yaml:"write_files"`
	Runcmd [][]string `yaml:"runcmd"`
}

// The source the example follows, and where its allowed signers go.
const (
	exampleSource  = "git+https://git.example.com/fleet.git#main"
	exampleSigners = "/etc/seconf/allowed_signers"
)

// TestCloudInitUserData holds the cloud-init example to what it must do:
// write an allowed-signers file ssh-keygen reads, root's alone; apply from
// the source and install the timer with the same source, then report with
// status. Then it runs the example's own commands, as written but for the
// repository (one served on the loopback, whose hosts/logger a test key
// signed) and the key, against a fresh root: they converge it.
func TestCloudInitUserData(t *testing.T) {
	src, err := os.ReadFile(userData)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(src, []byte("#cloud-config\n")) {
		t.Errorf("%s does not start with #cloud-config", userData)
	}
	var cc cloudConfig
	if err := yaml.Unmarshal(src, &cc); err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"git", "openssh-client"} {
		if !slices.Contains(cc.Packages, pkg) {
			t.Errorf("packages lack %s, which fetching and verifying need", pkg)
		}
	}
	var signers string
	for _, f := range cc.WriteFiles {
		if f.Path != exampleSigners {
			continue
		}
		if f.Owner != "root:root" || f.Permissions != "0644" || f.Encoding != "" {
			t.Errorf("%s: owner %q, permissions %q, encoding %q; want root:root, 0644, text", f.Path, f.Owner, f.Permissions, f.Encoding)
		}
		signers = f.Content
	}
	keygen := testenv.Tool(t, "", "ssh-keygen", "install openssh-client")
	keys := 0
	for _, l := range strings.Split(signers, "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		i := slices.IndexFunc(f, func(s string) bool { return strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "ecdsa-") })
		if i < 1 || i+1 >= len(f) {
			t.Errorf("allowed signers line %q: want PRINCIPAL [OPTIONS] KEYTYPE KEY", l)
			continue
		}
		pub := filepath.Join(t.TempDir(), "key.pub")
		os.WriteFile(pub, []byte(f[i]+" "+f[i+1]+"\n"), 0o644)
		if out, err := exec.Command(keygen, "-l", "-f", pub).CombinedOutput(); err != nil {
			t.Errorf("allowed signers line %q: ssh-keygen -l: %v\n%s", l, err, out)
		}
		keys++
	}
	if keys == 0 {
		t.Errorf("no key in %s", exampleSigners)
	}
	sourceFlags := []string{"--source", exampleSource, "--allowed-signers", exampleSigners, "--path", "hosts/logger"}
	wantCmds := [][]string{
		append([]string{"/usr/local/bin/seconf", "apply"}, sourceFlags...),
		append([]string{"/usr/local/bin/seconf", "timer", "install"}, sourceFlags...),
		{"/usr/local/bin/seconf", "status", "--detailed-exitcode"},
	}
	if d := cmp.Diff(wantCmds, cc.Runcmd); d != "" {
		t.Fatalf("runcmd (-want +got):\n%s", d)
	}

	// The commands as written, on a root, from a served repository.
	root := unitRoot(t)
	f := newFleet(t, root)
	f.repo.Commit(f.alice, "logger", map[string]string{"hosts/logger/host.hcl": mountHCL("1m")})
	writeAt(t, root, exampleSigners, f.alice.Allowed)
	for _, argv := range cc.Runcmd {
		args := slices.Clone(argv[1:])
		n := 1
		if args[0] == "timer" {
			n = 2
		}
		args = slices.Insert(args, n, "--root", root)
		for i, a := range args {
			switch {
			case a == exampleSource:
				args[i] = f.source
			case a == exampleSigners && args[0] == "apply":
				// apply reads it on the machine it runs on; timer install
				// writes the target's path into the service.
				args[i] = filepath.Join(root, exampleSigners)
			}
		}
		if out, errs, code := seconf(t, args...); code != 0 {
			t.Errorf("seconf %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errs)
		}
	}
	if !strings.Contains(readAt(t, root, scratchUnit), "size=1m") {
		t.Error("the example's commands did not converge the root")
	}
}

// TestCloudInitSchema runs cloud-init's own validator on the example.
func TestCloudInitSchema(t *testing.T) {
	bin := testenv.Tool(t, "", "cloud-init", "install the Debian package cloud-init (scripts/deps does)")
	out, err := exec.Command(bin, "schema", "--config-file", userData).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Valid cloud-config")) {
		t.Errorf("cloud-init schema --config-file %s: %v\n%s", userData, err, out)
	}
}
