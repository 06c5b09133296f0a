package main

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/host"
	"seconf/internal/testenv"
)

// podmanImport stores a one-file image under name in root's podman store,
// with the real podman, as an image build would.
func podmanImport(t *testing.T, root, name string) {
	t.Helper()
	podman := testenv.Tool(t, "", "podman", "apt-get install podman")
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 3})
	tw.Write([]byte("hi\n"))
	tw.Close()
	tmp := t.TempDir()
	tarball := filepath.Join(tmp, "img.tar")
	os.WriteFile(tarball, b.Bytes(), 0o644)
	conf := filepath.Join(tmp, "storage.conf")
	os.WriteFile(conf, []byte("[storage]\ndriver = \"vfs\"\ngraphroot = \""+filepath.Join(root, host.PodmanGraphRoot)+"\"\nrunroot = \""+filepath.Join(tmp, "run")+"\"\n"), 0o644)
	if _, err := (host.ExecRunner{}).Run(context.Background(), host.Cmd{Name: podman, Args: []string{"import", "-q", tarball, name}, Env: []string{"CONTAINERS_STORAGE_CONF=" + conf}}); err != nil {
		t.Fatal(err)
	}
}

// TestImagesOffline: offline nothing is pulled; plan reads the root's own
// image store and warns only of the images missing there, and a digest pin
// that is not sha256 is refused at its line.
func TestImagesOffline(t *testing.T) {
	root := unitRoot(t)
	podmanImport(t, root, "localhost/app:1")
	cfg := writeFiles(t, map[string]string{"host.hcl": `
container "there" {
  image   = "localhost/app:1"
  quadlet = false
}
container "missing" {
  image   = "localhost/app:2"
  quadlet = false
}
container "loaded_elsewhere" {
  image   = "localhost/app:3"
  quadlet = false
  pull    = "never"
}
`})
	out := mustSeconf(t, 0, "plan", "--root", root, cfg)
	flat := strings.Join(strings.Fields(out), " ")
	if strings.Count(out, "Images not pulled offline") != 1 || !strings.Contains(flat, "The root's image store lacks localhost/app:2, and") {
		t.Errorf("plan:\n%s", out)
	}
	if d := cmp.Diff([]string{"create container.there", "create container.missing", "create container.loaded_elsewhere"}, planLines(out)); d != "" {
		t.Errorf("offline plan pulls (-want +got):\n%s", d)
	}
	snap := testenv.Snapshot(t, root)
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	if strings.Contains(testenv.Diff(snap, testenv.Snapshot(t, root)), "var/lib/containers") {
		t.Error("an offline apply wrote to the root's image store")
	}

	bad := writeFiles(t, map[string]string{"host.hcl": "container \"c\" {\n  image = \"localhost/app:1@sha256:abc\"\n}\n"})
	_, errs, code := seconf(t, "validate", bad)
	if code != 1 || !strings.Contains(errs, "Invalid image digest") || !strings.Contains(errs, "line 2") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
}

const secretsConfig = `
variable "token" {
  sensitive = true
}
secret "api" {
  value  = var.token
  engine = "docker"
}
container "app" {
  image  = "docker.io/library/busybox:1.36"
  engine = "docker"
  secret = [secret.api.name]
}
container "other" {
  image  = "docker.io/library/busybox:1.36"
  engine = "docker"
}
`

// TestDockerSecret: a docker container's secret is a 0600 file the unit
// mounts read-only at /run/secrets/NAME; the value is in no output, unit or
// record, and a changed value restarts exactly the container that uses it.
func TestDockerSecret(t *testing.T) {
	const secret = "s3cr3t-do-not-print"
	root := unitRoot(t)
	writeAt(t, root, host.DockerDaemonConfig, "{\"selinux-enabled\": true}\n")
	cfg := writeFiles(t, map[string]string{"host.hcl": secretsConfig})
	t.Setenv("SECONF_VAR_token", secret)
	for _, args := range [][]string{{"plan", "--diff"}, {"plan", "--json", "--diff"}, {"apply", "-v", "--diff"}} {
		out, errs, code := seconf(t, append(args, "--root", root, cfg)...)
		if code != 0 || strings.Contains(out+errs, secret) {
			t.Fatalf("%v: exit %d, or the secret printed:\n%s\n%s", args, code, out, errs)
		}
	}
	if st := statAt(t, root, "/etc/seconf/secrets/api"); st != (stat{"-rw-------", 0, 0}) {
		t.Errorf("secret file %+v", st)
	}
	if got := readAt(t, root, "/etc/seconf/secrets/api"); got != secret {
		t.Errorf("secret file holds %q", got)
	}
	unit := readAt(t, root, "/etc/systemd/system/app.service")
	if !strings.Contains(unit, "-v /etc/seconf/secrets/api:/run/secrets/api:ro,z") || strings.Contains(unit, secret) {
		t.Errorf("unit:\n%s", unit)
	}
	if state := readAt(t, root, host.StatePath); strings.Contains(state, secret) || !strings.Contains(state, `"sum": "hmac-sha256:`) {
		t.Errorf("state record:\n%s", state)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)

	t.Setenv("SECONF_VAR_token", secret+"-2")
	out := mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", root, cfg)
	if d := cmp.Diff([]string{"update secret.api", "restart container.app"}, planLines(out)); d != "" {
		t.Errorf("a changed secret (-want +got):\n%s\n%s", d, out)
	}
	mustSeconf(t, 0, "apply", "--root", root, cfg)

	// By hand: drift, put back.
	writeAt(t, root, "/etc/seconf/secrets/api", "edited")
	out = mustSeconf(t, 2, "plan", "--detailed-exitcode", "--root", root, cfg)
	if !strings.Contains(out, "changed on the host since seconf wrote it") {
		t.Errorf("drift:\n%s", out)
	}

	// Gone with its block.
	gone := writeFiles(t, map[string]string{"host.hcl": strings.Replace(secretsConfig[:strings.Index(secretsConfig, `secret "api"`)], "variable", "variable", 1)})
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	out = mustSeconf(t, 0, "apply", "--root", root, gone)
	if !strings.Contains(out, "- delete   secret.api") {
		t.Errorf("removal:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/seconf/secrets/api")); err == nil {
		t.Error("the secret file is still there")
	}
}

// TestSecretRefusals: what cannot be a secret is refused at its line.
func TestSecretRefusals(t *testing.T) {
	cases := []struct{ name, hcl, want string }{
		{"docker without a secret block", "container \"c\" {\n  image  = \"i\"\n  engine = \"docker\"\n  secret = [\"token\"]\n}\n", "docker has secrets only in swarm mode"},
		{"docker as an environment variable", "secret \"t\" {\n  value  = \"x\"\n  engine = \"docker\"\n}\ncontainer \"c\" {\n  image  = \"i\"\n  engine = \"docker\"\n  secret = [\"${secret.t.name},type=env,target=T\"]\n}\n", "docker takes a secret as a file only"},
		{"engines differ", "secret \"t\" {\n  value = \"x\"\n}\ncontainer \"c\" {\n  image  = \"i\"\n  engine = \"docker\"\n  secret = [secret.t.name]\n}\n", `is for engine "podman"`},
		{"empty value", "secret \"t\" {\n  value = \"\"\n}\n", "Invalid secret value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFiles(t, map[string]string{"host.hcl": tc.hcl})
			_, errs, code := seconf(t, "validate", cfg)
			if code != 1 || !strings.Contains(strings.Join(strings.Fields(errs), " "), tc.want) {
				t.Errorf("exit %d, want %q:\n%s", code, tc.want, errs)
			}
		})
	}
}

// TestPodmanSecretOffline: a podman secret is made online only; offline
// plan says so and the unit names it.
func TestPodmanSecretOffline(t *testing.T) {
	root := unitRoot(t)
	cfg := writeFiles(t, map[string]string{"host.hcl": `
secret "db" {
  value = "pw"
}
container "db" {
  image   = "docker.io/library/postgres:16"
  quadlet = false
  secret  = ["${secret.db.name},type=env,target=POSTGRES_PASSWORD"]
}
`})
	out := mustSeconf(t, 0, "plan", "--root", root, cfg)
	if !strings.Contains(out, "Secret not made offline") {
		t.Errorf("plan:\n%s", out)
	}
	mustSeconf(t, 0, "apply", "--root", root, cfg)
	if unit := readAt(t, root, "/etc/systemd/system/db.service"); !strings.Contains(unit, "--secret db,type=env,target=POSTGRES_PASSWORD") {
		t.Errorf("unit:\n%s", unit)
	}
	mustSeconf(t, 0, "plan", "--detailed-exitcode", "--root", root, cfg)
}

// TestRefreshImages: plan --refresh-images asks the registry (Debian's
// docker-registry, on the loopback of a network namespace of its own, with
// the real podman and skopeo) what a pinned tag points at now, and warns
// once it has moved; plan without the flag asks nothing (the registry is
// stopped by then, and no error comes of it).
func TestRefreshImages(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	for _, tool := range []string{"podman", "skopeo", "docker-registry"} {
		testenv.Tool(t, "", tool, "apt-get install "+tool)
	}
	bin := buildSeconf(t)
	root := unitRoot(t)
	tmp := t.TempDir()
	os.MkdirAll(filepath.Join(tmp, "cfg"), 0o755)
	for name, content := range map[string]string{"1": "one\n", "2": "two\n"} {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		tw.WriteHeader(&tar.Header{Name: "version", Mode: 0o644, Size: int64(len(content))})
		tw.Write([]byte(content))
		tw.Close()
		os.WriteFile(filepath.Join(tmp, "app"+name+".tar"), b.Bytes(), 0o644)
	}
	files := map[string]string{
		"storage.conf":    "[storage]\ndriver = \"vfs\"\ngraphroot = \"" + tmp + "/storage\"\nrunroot = \"" + tmp + "/run\"\n",
		"registries.conf": "[[registry]]\nlocation = \"localhost:5000\"\ninsecure = true\n",
		"registry.yml":    "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: " + tmp + "/registry\nhttp:\n  addr: 127.0.0.1:5000\n",
	}
	for name, content := range files {
		os.WriteFile(filepath.Join(tmp, name), []byte(content), 0o644)
	}
	// skopeo, run by seconf, reads the root's registry settings.
	writeAt(t, root, "/etc/containers/registries.conf", files["registries.conf"])
	script := `set -e
ip link set lo up
docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
reg=$!
podman import -q "$T/app1.tar" localhost/app:1 >/dev/null
podman import -q "$T/app2.tar" localhost/app:2 >/dev/null
push() { for i in $(seq 50); do podman push -q --digestfile "$1" "$2" localhost:5000/app:1 >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
push "$T/d1" localhost/app:1
printf 'container "app" {\n  image   = "localhost:5000/app:1@%s"\n  quadlet = false\n}\n' "$(cat "$T/d1")" >"$T/cfg/host.hcl"
echo "== current"; "$BIN" plan --refresh-images --root "$ROOT" "$T/cfg" 2>&1 || true
push "$T/d2" localhost/app:2
echo "== moved $(cat "$T/d2")"; "$BIN" plan --refresh-images --root "$ROOT" "$T/cfg" 2>&1 || true
kill $reg; wait $reg || true
echo "== without"; "$BIN" plan --root "$ROOT" "$T/cfg" 2>&1 || true
`
	res, err := (host.ExecRunner{}).Run(context.Background(), host.Cmd{Name: "unshare", Args: []string{"-n", "sh", "-c", script},
		Env: []string{"T=" + tmp, "BIN=" + bin, "ROOT=" + root, "CONTAINERS_STORAGE_CONF=" + tmp + "/storage.conf", "CONTAINERS_REGISTRIES_CONF=" + tmp + "/registries.conf"}})
	out := string(res.Stdout) + string(res.Stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	parts := strings.Split(out, "== ")
	if len(parts) != 4 {
		t.Fatalf("output:\n%s", out)
	}
	current, moved, without := parts[1], parts[2], parts[3]
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	if strings.Contains(current, "The tag has moved") || strings.Contains(current, "Cannot ask") {
		t.Errorf("the pinned tag has not moved:\n%s", current)
	}
	d2 := strings.Fields(moved)[1]
	if !strings.Contains(moved, "The tag has moved") || !strings.Contains(flat(moved), "localhost:5000/app:1 now points at "+d2) {
		t.Errorf("the moved tag:\n%s", moved)
	}
	if strings.Contains(without, "registry") {
		t.Errorf("plan without --refresh-images asked the registry:\n%s", without)
	}
}
