package gitsource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"seconf/host"
	"seconf/internal/lazyre"
)

// FetchTimeout bounds one fetch: a hung server must not hold the apply
// lock until the timer's next run.
const FetchTimeout = 5 * time.Minute

// Source is one host's source: where to fetch, whom to trust, and which
// directory of the repository is the configuration.
type Source struct {
	Host *host.Host
	Spec Spec
	// AllowedSigners is the file of allowed keys, a path on the machine
	// seconf runs on: an SSH allowed-signers file (ssh-keygen(1), ALLOWED
	// SIGNERS), or OpenPGP public keys (gpg --export, armored or not).
	AllowedSigners string
	// Path is the configuration's directory inside the repository, clean
	// and relative; "" is the top.
	Path string

	repo string // RepoDir's real path
}

// Commit is a commit that passed verification.
type Commit struct {
	ID     string `json:"id"`
	Tree   string `json:"tree,omitempty"`   // the tree at Path: the checkout's name
	Signer string `json:"signer,omitempty"` // the SSH principal or the OpenPGP user ID
	Key    string `json:"key,omitempty"`    // the key's fingerprint
}

// Short is the abbreviated commit ID people read.
func Short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// RefusedError is a commit seconf will not apply: unsigned, signed by a
// key it does not allow, not descending from the last good commit, or
// holding what seconf does not check out.
type RefusedError struct {
	Commit string
	Reason string
}

func (e *RefusedError) Error() string {
	if e.Commit == "" {
		return e.Reason
	}
	return fmt.Sprintf("commit %s refused: %s", Short(e.Commit), e.Reason)
}

// FetchError is a fetch that failed: the server, the network, the ref.
type FetchError struct{ Err error }

func (e *FetchError) Error() string { return "fetch failed: " + e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// CleanPath checks and cleans --path: relative, inside the repository.
func CleanPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	c := path.Clean(p)
	if path.IsAbs(p) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("--path %s: give a directory inside the repository, relative to its top", p)
	}
	if c == "." {
		return "", nil
	}
	for _, r := range c {
		if r < ' ' || r == 0x7f {
			return "", fmt.Errorf("--path %q holds a control character", p)
		}
	}
	return c, nil
}

// CheckAllowedSigners refuses a file of allowed keys that someone other
// than root (or the user seconf runs as) could change: whoever can write
// it decides what the host runs.
func CheckAllowedSigners(file string) error {
	if !filepath.IsAbs(file) {
		return fmt.Errorf("--allowed-signers %s: give an absolute path", file)
	}
	st, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("--allowed-signers: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("--allowed-signers %s is not a regular file", file)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("--allowed-signers %s is writable by group or others (mode %04o): whoever can write it decides what this host runs; chmod go-w it", file, st.Mode().Perm())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 && int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("--allowed-signers %s belongs to uid %d: it must be root's", file, sys.Uid)
	}
	return nil
}

// Open checks the settings and makes seconf's repository if it is not
// there yet.
func (s *Source) Open(ctx context.Context) error {
	if err := CheckAllowedSigners(s.AllowedSigners); err != nil {
		return err
	}
	if _, err := host.Tool("git"); err != nil {
		return err
	}
	p, err := CleanPath(s.Path)
	if err != nil {
		return err
	}
	s.Path = p
	dir, err := s.Host.FS.Path(Dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	// What a killed run left half made (the caller holds the apply lock).
	for _, pat := range []string{".repo-*", ".gnupg-*"} {
		stale, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, p := range stale {
			os.RemoveAll(p)
		}
	}
	if s.repo, err = s.Host.FS.Path(RepoDir); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(s.repo, "HEAD")); err == nil {
		return nil
	}
	// No templates: a template directory could bring hooks. Made beside
	// and renamed, so that a killed init leaves no half repository.
	tmp, err := os.MkdirTemp(dir, ".repo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	saved := s.repo
	s.repo = tmp
	_, err = s.git(ctx, nil, nil, nil, "init", "--quiet", "--bare", "--template=", tmp)
	s.repo = saved
	if err != nil {
		return err
	}
	os.RemoveAll(s.repo) // a damaged one, without HEAD
	return os.Rename(tmp, s.repo)
}

// Fetch fetches the ref into FetchedRef and returns the commit it names.
func (s *Source) Fetch(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	ref := s.Spec.Ref
	if ref == "" {
		ref = "HEAD"
	}
	// A name is a branch before it is a tag. git's own order takes a tag
	// first, so whoever may push a tag named like the branch could point
	// every host at another signed commit; the tag is asked for only when
	// the remote has no such branch.
	refs := []string{ref}
	if ref != "HEAD" && !strings.HasPrefix(ref, "refs/") {
		refs = []string{"refs/heads/" + ref, "refs/tags/" + ref}
	}
	var err error
	for i, r := range refs {
		// "--" ends the options: nothing after it is read as one.
		_, err = s.git(ctx, nil, nil, nil, "fetch", "--quiet", "--no-tags", "--no-recurse-submodules",
			"--no-write-fetch-head", "--", s.Spec.URL, "+"+r+":"+FetchedRef)
		var ge *GitError
		if err == nil || ctx.Err() != nil || !errors.As(err, &ge) || !strings.Contains(ge.Msg, "couldn't find remote ref") {
			break
		}
		if i == len(refs)-1 && len(refs) > 1 {
			err = fmt.Errorf("%s: couldn't find remote ref %s: the remote has no branch or tag of that name", s.Spec.Redacted(), ref)
		}
	}
	if err != nil {
		var ge *GitError
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("%s: no answer within %s", s.Spec.Redacted(), FetchTimeout)
		case errors.As(err, &ge) && strings.Contains(ge.Msg, "dubious ownership"):
			// git's advice, safe.directory in the global configuration,
			// is a configuration seconf does not read.
			err = fmt.Errorf("%s: the repository belongs to another user, and git reads no other user's repository (seconf's git reads no configuration: safe.directory does not help): make it root's (chown -R root), or serve it over git://, http(s):// or ssh://", s.Spec.Redacted())
		}
		return "", &FetchError{err}
	}
	id, err := s.resolve(ctx, FetchedRef+"^{commit}")
	if err != nil {
		return "", &FetchError{fmt.Errorf("%s: %s does not name a commit: %w", s.Spec.Redacted(), ref, err)}
	}
	return id, nil
}

var hexID = lazyre.New(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

func (s *Source) resolve(ctx context.Context, rev string) (string, error) {
	res, err := s.git(ctx, nil, nil, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(res.Stdout))
	if !hexID.MatchString(id) {
		return "", fmt.Errorf("git rev-parse %s: unexpected %q", rev, id)
	}
	return id, nil
}

var (
	sshGood = lazyre.New(`(?m)^Good "git" signature for (.+) with (\S+) key (\S+)$`)
	gpgGood = lazyre.New(`(?m)^\[GNUPG:\] GOODSIG [0-9A-F]+ (.*)$`)
	gpgFpr  = lazyre.New(`(?m)^\[GNUPG:\] VALIDSIG ([0-9A-F]+) `)
)

// Verify checks with git verify-commit that commit id is signed by an
// allowed key, and returns who signed it.
func (s *Source) Verify(ctx context.Context, id string) (Commit, error) {
	if !hexID.MatchString(id) {
		return Commit{}, fmt.Errorf("verify: %q is not a commit ID", id)
	}
	ssh, err := host.Tool("ssh-keygen")
	if err != nil {
		return Commit{}, err
	}
	pgp, err := openPGP(s.AllowedSigners)
	if err != nil {
		return Commit{}, err
	}
	var config, extraEnv []string
	if pgp {
		gpg, err := host.Tool("gpg")
		if err != nil {
			return Commit{}, err
		}
		home, cleanup, err := s.keyring(ctx, gpg)
		if err != nil {
			return Commit{}, err
		}
		defer cleanup()
		// SSH signatures have no allowed signer here.
		config = []string{"gpg.program=" + gpg, "gpg.ssh.program=/bin/false", "gpg.ssh.allowedSignersFile=/dev/null"}
		extraEnv = []string{"GNUPGHOME=" + home}
	} else {
		// OpenPGP signatures are not allowed: gpg would otherwise trust
		// root's own keyring.
		config = []string{"gpg.program=/bin/false", "gpg.ssh.program=" + ssh, "gpg.ssh.allowedSignersFile=" + s.AllowedSigners}
	}
	res, err := s.git(ctx, nil, extraEnv, config, "verify-commit", "--raw", id)
	if err != nil {
		var ge *GitError
		if errors.As(err, &ge) && ge.Code == 1 {
			return Commit{}, &RefusedError{Commit: id, Reason: s.refusal(ctx, id, ge.Msg, pgp)}
		}
		return Commit{}, err
	}
	out := string(res.Stderr) + string(res.Stdout)
	c := Commit{ID: id}
	if m := sshGood.FindStringSubmatch(out); m != nil {
		c.Signer, c.Key = m[1], m[3]
	} else if m := gpgGood.FindStringSubmatch(out); m != nil {
		c.Signer = m[1]
		if f := gpgFpr.FindStringSubmatch(out); f != nil {
			c.Key = f[1]
		}
	} else {
		// git said yes but in words seconf does not know: refuse rather
		// than guess.
		return Commit{}, &RefusedError{Commit: id, Reason: "git verify-commit accepted it without naming a signer: " + strings.TrimSpace(out)}
	}
	return c, nil
}

// refusal says in a line why git refused a commit's signature.
func (s *Source) refusal(ctx context.Context, id, msg string, pgp bool) string {
	// git says nothing of a commit with no signature, nor of one of a kind
	// it had no program for (/bin/false): the commit says which it is.
	kind := ""
	if res, err := s.git(ctx, nil, nil, nil, "cat-file", "commit", id); err == nil {
		header, _, _ := strings.Cut(string(res.Stdout), "\n\n")
		switch {
		case strings.Contains(header, "\ngpgsig -----BEGIN SSH SIGNATURE-----"):
			kind = "SSH"
		case strings.Contains(header, "\ngpgsig -----BEGIN PGP SIGNATURE-----"):
			kind = "OpenPGP"
		case strings.Contains(header, "\ngpgsig "):
			kind = "other"
		}
	}
	file := s.AllowedSigners
	switch {
	case kind == "":
		// A release signed with git tag -s says nothing of its commit.
		return "not signed (seconf checks the commit's own signature, git commit -S; a signed tag does not count)"
	case kind == "other":
		return "signed with a kind of signature seconf does not accept (x509?)"
	case kind == "SSH" && pgp, kind == "OpenPGP" && !pgp:
		return fmt.Sprintf("signed with an %s key, and %s holds no keys of that kind", kind, file)
	case strings.Contains(msg, "No principal matched"):
		why := fmt.Sprintf("signed by a key that is not in %s", file)
		// ssh-keygen passes over a line it cannot read, or whose key has
		// expired at the commit's time, and says so: the key may be on
		// that line.
		var unread []string
		for _, l := range strings.Split(msg, "\n") {
			if strings.HasPrefix(l, file+":") {
				unread = append(unread, strings.TrimPrefix(l, file+":"))
			}
		}
		if len(unread) > 0 {
			why += fmt.Sprintf(", or on a line of it ssh-keygen passed over (line %s)", strings.Join(unread, "; line "))
		}
		return why
	case strings.Contains(msg, "NO_PUBKEY"), strings.Contains(msg, "ERRSIG"):
		return fmt.Sprintf("signed by an OpenPGP key that is not in %s", file)
	case strings.Contains(msg, "EXPKEYSIG"), strings.Contains(msg, "EXPSIG"), strings.Contains(msg, "REVKEYSIG"):
		return "signed by an expired or revoked key"
	case strings.Contains(msg, "BADSIG"), strings.Contains(msg, "Signature verification failed"), strings.Contains(msg, "incorrect signature"):
		return "its signature does not match its contents"
	}
	if msg == "" {
		return "its signature is not good"
	}
	return "its signature is not good: " + strings.ReplaceAll(msg, "\n", "; ")
}

// SignersDigest is the sha256 of the allowed-signers file: a commit
// verified against the same file, at the same commit, verifies the same
// (git checks a key's validity at the commit's time, not now).
func (s *Source) SignersDigest() (string, error) {
	data, err := os.ReadFile(s.AllowedSigners)
	if err != nil {
		return "", fmt.Errorf("--allowed-signers: %w", err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(data)), nil
}

// openPGP reports whether the allowed signers are OpenPGP keys (an armored
// or binary export) rather than an SSH allowed-signers file.
func openPGP(file string) (bool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return false, fmt.Errorf("--allowed-signers: %w", err)
	}
	if bytes.Contains(data, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
		return true, nil
	}
	// A binary export starts with a public-key packet (tag 6: 0x98-0x9b
	// in the old format, 0xc6 in the new) and is no UTF-8 text; an
	// allowed-signers file is text, which may start with a byte over 0x7f
	// too (a principal "émile", a byte order mark).
	return len(data) > 0 && (data[0] >= 0x98 && data[0] <= 0x9b || data[0] == 0xc6) && !utf8.Valid(data), nil
}

// keyring imports the allowed OpenPGP keys into a fresh GnuPG home: only
// they are trusted, never root's own keyring. gpg-agent is never started.
func (s *Source) keyring(ctx context.Context, gpg string) (string, func(), error) {
	dir, err := s.Host.FS.Path(Dir)
	if err != nil {
		return "", nil, err
	}
	home, err := os.MkdirTemp(dir, ".gnupg-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(home) }
	if err := os.WriteFile(filepath.Join(home, "gpg.conf"), []byte("no-autostart\n"), 0o600); err != nil {
		cleanup()
		return "", nil, err
	}
	envBin, err := host.Tool("env")
	if err != nil {
		cleanup()
		return "", nil, err
	}
	args := append([]string{"-i"}, env("GNUPGHOME="+home)...)
	args = append(args, gpg, "--batch", "--quiet", "--no-autostart", "--import", "--", s.AllowedSigners)
	if _, err := s.Host.Runner.Run(ctx, host.Cmd{Name: envBin, Args: args}); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("--allowed-signers %s: gpg cannot import it: %w", s.AllowedSigners, err)
	}
	return home, cleanup, nil
}

// Descends reports whether commit id has base in its history (or is it).
// A base the repository does not have is not in id's history.
func (s *Source) Descends(ctx context.Context, id, base string) (bool, error) {
	if id == base {
		return true, nil
	}
	_, err := s.git(ctx, nil, nil, nil, "merge-base", "--is-ancestor", "--end-of-options", base, id)
	var ge *GitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ge) && ge.Code == 1:
		return false, nil
	case errors.As(err, &ge) && strings.Contains(ge.Msg, "Not a valid"):
		return false, nil
	}
	return false, err
}

// Tree returns the ID of the tree at Path in commit id.
func (s *Source) Tree(ctx context.Context, id string) (string, error) {
	if s.Path == "" {
		return s.resolve(ctx, id+"^{tree}")
	}
	res, err := s.git(ctx, nil, nil, nil, "ls-tree", "-d", "-z", "--full-tree", id, "--", s.Path)
	if err != nil {
		return "", err
	}
	for _, rec := range strings.Split(string(res.Stdout), "\x00") {
		meta, name, _ := strings.Cut(rec, "\t")
		if f := strings.Fields(meta); name == s.Path && len(f) == 3 && f[1] == "tree" && hexID.MatchString(f[2]) {
			return f[2], nil
		}
	}
	return "", &RefusedError{Commit: id, Reason: fmt.Sprintf("it has no directory %s", s.Path)}
}

// KeepGood points GoodRef at id, so that the commit stays in the
// repository whatever the remote does.
func (s *Source) KeepGood(ctx context.Context, id string) error {
	_, err := s.git(ctx, nil, nil, nil, "update-ref", GoodRef, id)
	return err
}
