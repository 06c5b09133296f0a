package containerstore

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

func TestParseRef(t *testing.T) {
	const d = "sha256:665fdcffd8a0ba95ad7143c80a7531cf00bba61a0992299707d3855e67d31a3e"
	cases := []struct {
		in    string
		want  Ref
		repo  string
		names []string
		err   string
	}{
		{"busybox", Ref{Path: "busybox"}, "docker.io/library/busybox", []string{"docker.io/library/busybox:latest"}, ""},
		{"fluent/fluentd:v1.17-1", Ref{Path: "fluent/fluentd", Tag: "v1.17-1"}, "docker.io/fluent/fluentd", []string{"docker.io/fluent/fluentd:v1.17-1"}, ""},
		{"localhost/busybox:latest", Ref{Domain: "localhost", Path: "busybox", Tag: "latest"}, "localhost/busybox", []string{"localhost/busybox:latest"}, ""},
		{"localhost:5000/e2e/busybox:1@" + d, Ref{Domain: "localhost:5000", Path: "e2e/busybox", Tag: "1", Digest: d}, "localhost:5000/e2e/busybox",
			[]string{"localhost:5000/e2e/busybox:1", "localhost:5000/e2e/busybox@" + d}, ""},
		{"quay.io/app@" + d, Ref{Domain: "quay.io", Path: "app", Digest: d}, "quay.io/app", []string{"quay.io/app@" + d}, ""},
		{"busybox@sha256:abc", Ref{}, "", nil, "is not sha256: followed by 64"},
		{"busybox@md5:" + d[7:], Ref{}, "", nil, "is not sha256"},
		{"Busybox:1", Ref{}, "", nil, "is not a repository name"},
		{"busybox:-x", Ref{}, "", nil, "is not a tag"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRef(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if got.Repo() != tc.repo {
				t.Errorf("repo %q, want %q", got.Repo(), tc.repo)
			}
			if d := cmp.Diff(tc.names, got.Names()); d != "" {
				t.Errorf("names (-want +got):\n%s", d)
			}
		})
	}
}

// tarball is a one-file tar for podman import: an image without a registry.
func tarball(t *testing.T) string {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 3})
	tw.Write([]byte("hi\n"))
	tw.Close()
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPodmanImagesFromRealStore: the index is read from a store the real
// podman wrote (a private one, named by the root's storage.conf), and
// answers as podman would: by full name, by short name, by ID.
func TestPodmanImagesFromRealStore(t *testing.T) {
	podman := testenv.Tool(t, "", "podman", "apt-get install podman")
	root := t.TempDir()
	graph := filepath.Join(root, "srv/storage")
	conf := "[storage]\ndriver = \"vfs\"\ngraphroot = \"/srv/storage\" # moved\n"
	os.MkdirAll(filepath.Join(root, "etc/containers"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/containers/storage.conf"), []byte(conf), 0o644)
	// podman itself gets the real paths, in a storage.conf of its own.
	own := filepath.Join(t.TempDir(), "storage.conf")
	os.WriteFile(own, []byte("[storage]\ndriver = \"vfs\"\ngraphroot = \""+graph+"\"\nrunroot = \""+filepath.Join(t.TempDir(), "run")+"\"\n"), 0o644)
	env := []string{"CONTAINERS_STORAGE_CONF=" + own}
	run := func(args ...string) string {
		t.Helper()
		res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: podman, Args: args, Env: env})
		if err != nil {
			t.Fatalf("podman %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	h, err := host.New(root, host.Offline, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := PodmanGraphRoot(h); got != "/srv/storage" {
		t.Fatalf("graph root %q", got)
	}
	ix, err := PodmanImages(h)
	if err != nil || !ix.Known {
		t.Fatalf("empty store: known %v, %v", ix.Known, err)
	}
	id := strings.TrimPrefix(run("import", "-q", tarball(t), "localhost/app:1"), "sha256:")
	run("tag", "localhost/app:1", "docker.io/library/busybox:latest")
	ix, err = PodmanImages(h)
	if err != nil || !ix.Known {
		t.Fatalf("known %v, %v", ix.Known, err)
	}
	for ref, want := range map[string]bool{
		"localhost/app:1": true, "localhost/app:2": false, "busybox": true, "docker.io/library/busybox": true,
		"busybox:1.36": false, "quay.io/busybox": false,
	} {
		r, err := ParseRef(ref)
		if err != nil {
			t.Fatal(err)
		}
		if _, found := ix.Find(r); found != want {
			t.Errorf("Find(%s) = %v, want %v", ref, found, want)
		}
	}
	if im, ok := ix.ByID("sha256:" + id); !ok || im.ID != id {
		t.Errorf("ByID(%s) = %+v, %v", id, im, ok)
	}
}

// TestDockerImages reads docker's repositories.json (a sample in docker's
// format: the daemon does not run here), familiar names made full.
func TestDockerImages(t *testing.T) {
	const d = "sha256:665fdcffd8a0ba95ad7143c80a7531cf00bba61a0992299707d3855e67d31a3e"
	root := t.TempDir()
	p := filepath.Join(root, "var/lib/docker/image/overlay2/repositories.json")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(`{"Repositories":{"busybox":{"busybox:1.36":"sha256:aaa","busybox@`+d+`":"sha256:aaa"},"localhost:5000/app":{"localhost:5000/app:1":"sha256:bbb"}}}`), 0o644)
	h, _ := host.New(root, host.Offline, nil)
	ix, err := DockerImages(h)
	if err != nil || !ix.Known {
		t.Fatalf("known %v, %v", ix.Known, err)
	}
	for ref, want := range map[string]bool{
		"busybox:1.36": true, "docker.io/library/busybox:1.36": true, "busybox:1.37@" + d: true,
		"busybox:latest": false, "localhost:5000/app:1": true, "localhost:5000/app:2": false,
	} {
		r, _ := ParseRef(ref)
		if _, found := ix.Find(r); found != want {
			t.Errorf("Find(%s) = %v, want %v", ref, found, want)
		}
	}
	// No index at all (containerd's image store): unknown, not empty.
	if ix, _ := DockerImages(mustHost(t, t.TempDir())); ix.Known {
		t.Error("a missing docker index reads as known")
	}
}

func mustHost(t *testing.T, root string) *host.Host {
	h, err := host.New(root, host.Offline, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
