package gitsource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/host"
	"seconf/internal/testenv"
)

// fixture is a repository served over HTTP on the loopback and a root to
// fetch it into.
type fixture struct {
	repo *testenv.GitRepo
	spec Spec
	root string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	served := t.TempDir()
	repo := testenv.NewGitRepo(t, filepath.Join(served, "fleet"))
	srv := testenv.ServeGit(t, served)
	return &fixture{repo: repo, spec: Spec{URL: srv.URL + "/fleet/.git", Ref: "main"}, root: t.TempDir()}
}

// source opens the fixture's source with the given allowed signers.
func (f *fixture) source(t *testing.T, path string, signers ...*testenv.Signer) *Source {
	t.Helper()
	h, err := host.New(f.root, host.Offline, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &Source{Host: h, Spec: f.spec, AllowedSigners: testenv.AllowedSigners(t, t.TempDir(), signers...), Path: path}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerify signs commits with throwaway SSH and OpenPGP keys and asks
// git verify-commit, as Verify does, which ones an allowed-signers file
// lets through.
func TestVerify(t *testing.T) {
	f := newFixture(t)
	alice, mallory := testenv.SSHSigner(t, "alice"), testenv.SSHSigner(t, "mallory")
	carol, eve := testenv.GPGSigner(t, "carol"), testenv.GPGSigner(t, "eve")
	files := map[string]string{"host.hcl": "# empty\n"}
	commits := map[string]string{}
	for _, c := range []struct {
		name string
		s    *testenv.Signer
	}{{"alice", alice}, {"mallory", mallory}, {"carol", carol}, {"eve", eve}, {"unsigned", nil}} {
		files["host.hcl"] += "# " + c.name + "\n"
		commits[c.name] = f.repo.Commit(c.s, c.name, files)
	}
	// alice's signature on a commit whose message was changed afterwards.
	raw := testenv.Git(t, f.repo.Dir, nil, "cat-file", "commit", commits["alice"])
	forged := filepath.Join(t.TempDir(), "forged")
	os.WriteFile(forged, []byte(strings.Replace(raw, "\n\nalice", "\n\nalice, or so it says", 1)+"\n"), 0o644)
	commits["tampered"] = testenv.Git(t, f.repo.Dir, nil, "hash-object", "-t", "commit", "-w", forged)
	testenv.Git(t, f.repo.Dir, nil, "update-ref", "refs/heads/tampered", commits["tampered"])
	ssh := f.source(t, "", alice)
	pgp := f.source(t, "", carol)
	// alice's key under a principal that starts with a byte over 0x7f,
	// which is no binary OpenPGP export.
	accented := f.source(t, "", alice)
	os.WriteFile(accented.AllowedSigners, []byte(strings.Replace(alice.Allowed, "alice@", "émile@", 1)), 0o644)
	// alice's line with an option ssh-keygen cannot read: it skips the
	// line, and only says so on stderr.
	badLine := f.source(t, "", alice)
	os.WriteFile(badLine.AllowedSigners, []byte(strings.Replace(alice.Allowed, "namespaces=", "valid-before=20200101 namespaces=", 1)), 0o644)
	for _, ref := range []string{"main", "tampered"} {
		ssh.Spec.Ref = ref
		if _, err := ssh.Fetch(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, commit string
		src          *Source
		signer       string // "" refused
		reason       string
	}{
		{"ssh-allowed", commits["alice"], ssh, "alice@example.com", ""},
		{"ssh-unknown-key", commits["mallory"], ssh, "", "signed by a key that is not in"},
		{"ssh-unsigned", commits["unsigned"], ssh, "", "not signed"},
		{"ssh-non-ascii-principal", commits["alice"], accented, "émile@example.com", ""},
		{"ssh-unreadable-line", commits["alice"], badLine, "", "or on a line of it ssh-keygen passed over (line 1: "},
		{"ssh-tampered", commits["tampered"], ssh, "", "does not match its contents"},
		{"ssh-file-openpgp-commit", commits["carol"], ssh, "", "holds no keys of that kind"},
		{"openpgp-allowed", commits["carol"], pgp, "carol <carol@example.com>", ""},
		{"openpgp-unknown-key", commits["eve"], pgp, "", "OpenPGP key that is not in"},
		{"openpgp-unsigned", commits["unsigned"], pgp, "", "not signed"},
		{"unsigned-says-commit", commits["unsigned"], ssh, "", "a signed tag does not count"},
		{"openpgp-file-ssh-commit", commits["alice"], pgp, "", "holds no keys of that kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.src.Verify(context.Background(), tc.commit)
			if tc.signer != "" {
				if err != nil || c.Signer != tc.signer || c.ID != tc.commit || c.Key == "" {
					t.Fatalf("Verify = %+v, %v; want signer %q", c, err, tc.signer)
				}
				return
			}
			var re *RefusedError
			if !errors.As(err, &re) || !strings.Contains(re.Reason, tc.reason) || re.Commit != tc.commit {
				t.Fatalf("Verify = %+v, %v; want a refusal containing %q", c, err, tc.reason)
			}
		})
	}
	// The OpenPGP keyring was temporary, and no agent is left behind.
	left, _ := filepath.Glob(filepath.Join(f.root, Dir, ".gnupg-*"))
	if len(left) > 0 {
		t.Errorf("temporary GnuPG homes left: %v", left)
	}
}

// TestCheckout writes a commit's tree at a path, byte for byte and with
// its modes, shares it with another commit of the same tree, and refuses
// what it must not follow.
func TestCheckout(t *testing.T) {
	f := newFixture(t)
	alice := testenv.SSHSigner(t, "alice")
	src := f.source(t, "hosts/web", alice)
	ctx := context.Background()
	checkout := func(t *testing.T, files map[string]string) (*Commit, string, error) {
		t.Helper()
		f.repo.Commit(alice, "x", files)
		id, err := src.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c := &Commit{ID: id}
		dir, err := src.Checkout(ctx, c)
		return c, dir, err
	}
	good := map[string]string{
		"hosts/web/host.hcl":       "mount {}\n",
		"hosts/web/policy/a.te":    "policy_module(a, 1.0)\n",
		"hosts/db/host.hcl":        "other host\n",
		"README.md":                "top\n",
		"hosts/web/.gitattributes": "*.hcl filter=evil\n",
	}
	c1, dir, err := checkout(t, good)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			data, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			st, _ := os.Stat(p)
			got[rel] = st.Mode().Perm().String() + " " + string(data)
		}
		return nil
	})
	want := map[string]string{
		"host.hcl":       "-rw-r--r-- mount {}\n",
		"policy/a.te":    "-rw-r--r-- policy_module(a, 1.0)\n",
		".gitattributes": "-rw-r--r-- *.hcl filter=evil\n",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("checkout of hosts/web (-want +got):\n%s", d)
	}
	if filepath.Base(dir) != c1.Tree {
		t.Errorf("checkout %s is not named by its tree %s", dir, c1.Tree)
	}

	// Another commit that changes only another host's files has the same
	// tree at hosts/web: the same checkout.
	other := map[string]string{}
	for k, v := range good {
		other[k] = v
	}
	other["hosts/db/host.hcl"] = "changed\n"
	c2, dir2, err := checkout(t, other)
	if err != nil || dir2 != dir || c2.ID == c1.ID {
		t.Errorf("second commit: %s, %v; want the same checkout %s for a new commit", dir2, err, dir)
	}

	for _, tc := range []struct {
		name   string
		files  map[string]string
		reason string
	}{
		{"symlink-out", map[string]string{"hosts/web/host.hcl@": "/etc/shadow"}, "hosts/web/host.hcl is a symbolic link"},
		{"symlink-in", map[string]string{"hosts/web/a.hcl": "x", "hosts/web/b.hcl@": "a.hcl"}, "symbolic link"},
		{"no-directory", map[string]string{"hosts/db/host.hcl": "x"}, "no directory hosts/web"},
		{"file-not-directory", map[string]string{"hosts/web": "x"}, "no directory hosts/web"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := checkout(t, tc.files)
			var re *RefusedError
			if !errors.As(err, &re) || !strings.Contains(re.Reason, tc.reason) {
				t.Fatalf("Checkout: %v; want a refusal containing %q", err, tc.reason)
			}
		})
	}

	// The checkout is read into memory whole: a huge file (a 300 MB blob
	// took seconf to 1.4 GB) is refused before anything is read.
	t.Run("too-large", func(t *testing.T) {
		defer func(b, c int64) { maxBlob, maxCheckout = b, c }(maxBlob, maxCheckout)
		maxBlob, maxCheckout = 100, 250
		for _, tc := range []struct {
			name   string
			files  map[string]string
			reason string
		}{
			{"file", map[string]string{"hosts/web/host.hcl": "x", "hosts/web/big.bin": strings.Repeat("x", 101)}, "hosts/web/big.bin is 101 bytes; seconf checks out files of at most"},
			{"total", map[string]string{"hosts/web/a": strings.Repeat("a", 100), "hosts/web/b": strings.Repeat("b", 100), "hosts/web/c": strings.Repeat("c", 100)}, "holds more than"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := checkout(t, tc.files)
				var re *RefusedError
				if !errors.As(err, &re) || !strings.Contains(re.Reason, tc.reason) {
					t.Fatalf("Checkout: %v; want a refusal containing %q", err, tc.reason)
				}
			})
		}
		// Bulk data elsewhere in the repository is not checked out.
		files := map[string]string{"hosts/web/host.hcl": strings.Repeat("x", 100), "data/big.bin": strings.Repeat("x", 1000)}
		if _, _, err := checkout(t, files); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("submodule", func(t *testing.T) {
		f.repo.Commit(alice, "x", good)
		sub := testenv.Git(t, f.repo.Dir, nil, "rev-parse", "HEAD")
		testenv.Git(t, f.repo.Dir, nil, "update-index", "--add", "--cacheinfo", "160000,"+sub+",hosts/web/vendor")
		testenv.Git(t, f.repo.Dir, nil, "commit", "--quiet", "-m", "submodule")
		id, err := src.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Checkout(ctx, &Commit{ID: id})
		var re *RefusedError
		if !errors.As(err, &re) || !strings.Contains(re.Reason, "submodule") {
			t.Fatalf("Checkout: %v; want the submodule refused", err)
		}
	})

	// Prune keeps what it is told, and removes leftovers of a killed run.
	parent := filepath.Join(f.root, CheckoutDir)
	os.Mkdir(filepath.Join(parent, ".new-killed"), 0o700)
	if err := src.Prune(c1.Tree); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(parent)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if d := cmp.Diff([]string{c1.Tree}, names); d != "" {
		t.Errorf("after Prune (-want +got):\n%s", d)
	}
}

// TestDescends: the last good commit must be in the new commit's history.
func TestDescends(t *testing.T) {
	f := newFixture(t)
	alice := testenv.SSHSigner(t, "alice")
	src := f.source(t, "", alice)
	ctx := context.Background()
	a := f.repo.Commit(alice, "a", map[string]string{"x": "a"})
	b := f.repo.Commit(alice, "b", map[string]string{"x": "b"})
	f.repo.Reset(a)
	c := f.repo.Commit(alice, "c", map[string]string{"x": "c"}) // a fork: b is not in c's history
	if _, err := src.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		id, base string
		want     bool
	}{
		{"child", c, a, true},
		{"same", a, a, true},
		{"parent", a, c, false},
		{"fork", c, b, false},
		{"unknown-base", c, strings.Repeat("ab", 20), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := src.Descends(ctx, tc.id, tc.base)
			if err != nil || got != tc.want {
				t.Errorf("Descends = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestFetchFailures: a server that is gone, a ref that is not there.
func TestFetchFailures(t *testing.T) {
	f := newFixture(t)
	alice := testenv.SSHSigner(t, "alice")
	f.repo.Commit(alice, "a", map[string]string{"x": "a"})
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"no-such-ref", Spec{URL: f.spec.URL, Ref: "nope"}, "couldn't find remote ref nope"},
		{"no-such-repository", Spec{URL: f.spec.URL + "/missing", Ref: "main"}, "not found"},
		{"connection-refused", Spec{URL: "http://127.0.0.1:1/fleet.git", Ref: "main"}, "connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.spec = tc.spec
			src := f.source(t, "", alice)
			_, err := src.Fetch(context.Background())
			var fe *FetchError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Fetch: %v; want a FetchError containing %q", err, tc.want)
			}
		})
	}
}

// TestFetchNotOwned: git reads no local repository of another user, and
// its advice (git config --global safe.directory) is no use to seconf,
// whose git reads no configuration: the error says what to do instead.
func TestFetchNotOwned(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the repository to another user")
	}
	repo := testenv.NewGitRepo(t, filepath.Join(t.TempDir(), "fleet"))
	repo.Commit(nil, "a", map[string]string{"x": "a"})
	filepath.WalkDir(repo.Dir, func(p string, d os.DirEntry, err error) error { return os.Lchown(p, 65534, 65534) })
	f := &fixture{repo: repo, spec: Spec{URL: "file://" + repo.Dir, Ref: "main"}, root: t.TempDir()}
	_, err := f.source(t, "").Fetch(context.Background())
	var fe *FetchError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "chown -R root") || strings.Contains(err.Error(), "git config --global") {
		t.Fatalf("Fetch: %v; want a FetchError saying to make the repository root's", err)
	}
}

// TestAllowedSignersFile refuses a file anyone but root could change.
func TestAllowedSignersFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "allowed")
	os.WriteFile(p, []byte("x\n"), 0o644)
	for _, tc := range []struct {
		name  string
		setup func()
		want  string
	}{
		{"ok", func() {}, ""},
		{"group-writable", func() { os.Chmod(p, 0o664) }, "writable by group or others"},
		{"not-root", func() { os.Chmod(p, 0o644); os.Chown(p, 65534, 65534) }, "belongs to uid 65534"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			err := CheckAllowedSigners(p)
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("CheckAllowedSigners: %v; want %q", err, tc.want)
			}
		})
	}
	if err := CheckAllowedSigners("allowed"); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative path: %v", err)
	}
}

// TestFetchTag follows an annotated tag: the commit it names is what
// Fetch returns, not the tag object.
func TestFetchTag(t *testing.T) {
	f := newFixture(t)
	alice := testenv.SSHSigner(t, "alice")
	a := f.repo.Commit(alice, "a", map[string]string{"x": "a"})
	testenv.Git(t, f.repo.Dir, nil, "tag", "-a", "-m", "release", "v1.0")
	f.repo.Commit(alice, "b", map[string]string{"x": "b"})
	f.spec.Ref = "v1.0"
	src := f.source(t, "", alice)
	id, err := src.Fetch(context.Background())
	if err != nil || id != a {
		t.Fatalf("Fetch of tag v1.0 = %s, %v; want the tagged commit %s", id, err, a)
	}
	if c, err := src.Verify(context.Background(), id); err != nil || c.Signer != "alice@example.com" {
		t.Errorf("Verify = %+v, %v", c, err)
	}
}

// TestFetchBranchBeforeTag: a name that is both a branch and a tag on the
// remote is the branch (git alone would take the tag, which anyone who may
// push tags could point at another signed commit); a full ref name is taken
// as written.
func TestFetchBranchBeforeTag(t *testing.T) {
	f := newFixture(t)
	alice := testenv.SSHSigner(t, "alice")
	old := f.repo.Commit(alice, "a", map[string]string{"x": "a"})
	testenv.Git(t, f.repo.Dir, nil, "tag", "-a", "-m", "not the branch", "main")
	tip := f.repo.Commit(alice, "b", map[string]string{"x": "b"})
	for ref, want := range map[string]string{"main": tip, "refs/tags/main": old, "refs/heads/main": tip} {
		f.spec.Ref = ref
		if id, err := f.source(t, "", alice).Fetch(context.Background()); err != nil || id != want {
			t.Errorf("Fetch of %s = %s, %v; want %s", ref, id, err, want)
		}
	}
}
