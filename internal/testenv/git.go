package testenv

import (
	"context"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"seconf/host"
)

// gitEnv keeps the test's git away from the machine's and the user's
// configuration, and gives it an author.
var gitEnv = []string{
	"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
	"GIT_AUTHOR_NAME=Fleet Admin", "GIT_AUTHOR_EMAIL=admin@example.com",
	"GIT_COMMITTER_NAME=Fleet Admin", "GIT_COMMITTER_EMAIL=admin@example.com",
}

// Git runs git in dir with a private configuration and returns its output,
// trimmed; extra are added to the environment.
func Git(t testing.TB, dir string, extra []string, args ...string) string {
	t.Helper()
	bin := Tool(t, "", "git", "install git")
	res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: bin, Args: args, Dir: dir, Env: append(append([]string{}, gitEnv...), extra...)})
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(res.Stdout))
}

// GitServer serves the repositories under dir over smart HTTP on the
// loopback, through git's own git-http-backend, on a port of its own. The
// URL has no trailing slash; a repository dir/a.git is URL + "/a.git".
// Stop ends it (Cleanup does too).
type GitServer struct {
	URL  string
	Stop func()
}

// ServeGit starts a GitServer for dir.
func ServeGit(t testing.TB, dir string) *GitServer {
	t.Helper()
	backend := "/usr/lib/git-core/git-http-backend"
	if _, err := os.Stat(backend); err != nil {
		t.Fatalf("git-http-backend: %v (install git)", err)
	}
	srv := httptest.NewServer(&cgi.Handler{
		Path: backend,
		Env:  append([]string{"GIT_PROJECT_ROOT=" + dir, "GIT_HTTP_EXPORT_ALL=1"}, gitEnv[:2]...),
	})
	t.Cleanup(srv.Close)
	return &GitServer{URL: srv.URL, Stop: srv.Close}
}

// Signer is a throwaway key that signs commits: SSH (ssh-keygen) or
// OpenPGP (gpg, in a GnuPG home of its own).
type Signer struct {
	Name string
	// Allowed is the line (SSH) or armored export (OpenPGP) that lets the
	// key sign: what goes into an allowed-signers file.
	Allowed string
	config  []string // git -c settings that sign with it
	env     []string
}

// SSHSigner makes an ed25519 key for principal name@example.com.
func SSHSigner(t testing.TB, name string) *Signer {
	t.Helper()
	bin := Tool(t, "", "ssh-keygen", "install openssh-client")
	key := filepath.Join(t.TempDir(), name)
	run(t, "", bin, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{
		Name:    name,
		Allowed: name + `@example.com namespaces="git" ` + strings.TrimSpace(string(pub)) + "\n",
		config:  []string{"gpg.format=ssh", "user.signingKey=" + key, "gpg.ssh.program=" + bin},
	}
}

// GPGSigner makes an OpenPGP key for "NAME <name@example.com>" in a GnuPG
// home of its own, whose agent is stopped when the test ends.
func GPGSigner(t testing.TB, name string) *Signer {
	t.Helper()
	gpg := Tool(t, "", "gpg", "install gnupg")
	// A short path: the agent's socket lives in the home.
	home, err := os.MkdirTemp("", "gpg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if conf, err := host.LookPath("gpgconf"); err == nil {
			host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: conf, Args: []string{"--homedir", home, "--kill", "all"}})
		}
		os.RemoveAll(home)
	})
	env := []string{"GNUPGHOME=" + home}
	uid := name + " <" + name + "@example.com>"
	runEnv(t, env, gpg, "--batch", "--quiet", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
	return &Signer{
		Name:    name,
		Allowed: runEnv(t, env, gpg, "--armor", "--export", uid),
		config:  []string{"gpg.format=openpgp", "user.signingKey=" + name + "@example.com", "gpg.program=" + gpg},
		env:     env,
	}
}

func runEnv(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	res, err := host.ExecRunner{}.Run(context.Background(), host.Cmd{Name: name, Args: args, Env: env})
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(res.Stdout)
}

// AllowedSigners writes an allowed-signers file (mode 0644) for the
// signers into dir and returns its path.
func AllowedSigners(t testing.TB, dir string, signers ...*Signer) string {
	t.Helper()
	var b strings.Builder
	for _, s := range signers {
		b.WriteString(s.Allowed)
	}
	p := filepath.Join(dir, "allowed_signers")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// GitRepo is a repository a test commits configurations to, on branch
// main. Dir is its working tree; it is served as Dir's ".git".
type GitRepo struct {
	t   testing.TB
	Dir string
}

// NewGitRepo makes an empty repository at dir.
func NewGitRepo(t testing.TB, dir string) *GitRepo {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	Git(t, dir, nil, "init", "--quiet", "--initial-branch=main")
	return &GitRepo{t: t, Dir: dir}
}

// Commit replaces the working tree's files with files (name → content;
// a name ending in "@" is written as a symbolic link to the content) and
// commits them, signed by s (unsigned when nil). It returns the commit.
func (r *GitRepo) Commit(s *Signer, msg string, files map[string]string) string {
	r.t.Helper()
	ents, err := os.ReadDir(r.Dir)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != ".git" {
			os.RemoveAll(filepath.Join(r.Dir, e.Name()))
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		link := strings.HasSuffix(n, "@")
		p := filepath.Join(r.Dir, strings.TrimSuffix(n, "@"))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if link {
			err = os.Symlink(files[n], p)
		} else {
			err = os.WriteFile(p, []byte(files[n]), 0o644)
		}
		if err != nil {
			r.t.Fatal(err)
		}
	}
	Git(r.t, r.Dir, nil, "add", "--all")
	args := []string{"commit", "--quiet", "--allow-empty", "-m", msg}
	var env []string
	if s != nil {
		var cfg []string
		for _, c := range s.config {
			cfg = append(cfg, "-c", c)
		}
		args = append(append(cfg, args...), "-S")
		env = s.env
	}
	Git(r.t, r.Dir, env, args...)
	return r.Head()
}

// Head is the commit main points at.
func (r *GitRepo) Head() string {
	r.t.Helper()
	return Git(r.t, r.Dir, nil, "rev-parse", "HEAD")
}

// Reset points main (and the working tree) at commit: history rewritten.
func (r *GitRepo) Reset(commit string) {
	r.t.Helper()
	Git(r.t, r.Dir, nil, "reset", "--quiet", "--hard", commit)
}
