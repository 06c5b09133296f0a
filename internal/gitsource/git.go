package gitsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"seconf/host"
)

// Where the source lives on the host (offline: under the root). Dir sits
// beside the state record, in the directory the timer's service may write
// (StateDirectory=seconf).
const (
	Dir         = "/var/lib/seconf/source"
	RepoDir     = Dir + "/repo.git"
	CheckoutDir = Dir + "/checkouts"
)

// Refs seconf keeps in its repository: what the last fetch found, and the
// last good commit, so that a remote's rewritten history never takes it
// away.
const (
	FetchedRef = "refs/seconf/fetched"
	GoodRef    = "refs/seconf/good"
)

// systemPath is the only PATH git and what it runs (ssh, git-remote-https)
// see: the system directories, as host.Tool.
const systemPath = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

// passEnv are the caller's variables git still gets: proxies, which a
// fleet behind one needs and which run nothing.
var passEnv = []string{"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"}

// pinned is every setting that could make git run something the
// repository or the environment chose, fixed on the command line, which
// wins over any configuration file (and there is none: see env).
var pinned = []string{
	"core.hooksPath=/dev/null",
	"core.fsmonitor=false",
	"core.useReplaceRefs=false",
	"core.askPass=",
	"credential.helper=",
	"protocol.allow=never",
	"protocol.https.allow=always",
	"protocol.http.allow=always",
	"protocol.ssh.allow=always",
	"protocol.git.allow=always",
	"protocol.file.allow=always",
	"transfer.fsckObjects=true",
	"fetch.recurseSubmodules=false",
	"fetch.writeCommitGraph=false",
	"gc.auto=0",
	"maintenance.auto=false",
	"color.ui=false",
	"advice.detachedHead=false",
	// x509 signatures (gpgsm) are never allowed.
	"gpg.x509.program=/bin/false",
}

// env is git's whole environment. The caller's GIT_* variables
// (GIT_CONFIG_PARAMETERS, GIT_SSH_COMMAND, GIT_EXEC_PATH, GIT_DIR, ...)
// would each steer git; none is passed on. No system or global
// configuration is read, and no terminal is asked for credentials.
func env(extra ...string) []string {
	e := []string{
		systemPath,
		"LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_NO_REPLACE_OBJECTS=1",
		"GIT_PROTOCOL_FROM_USER=0",
	}
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			e = append(e, k+"="+v)
		}
	}
	return append(e, extra...)
}

// git runs git on the repository with a clean environment (through env -i:
// host.Cmd adds to the environment, and only a fresh one is safe) and the
// pinned settings.
func (s *Source) git(ctx context.Context, stdin []byte, extraEnv []string, config []string, args ...string) (host.Result, error) {
	envBin, err := host.Tool("env")
	if err != nil {
		return host.Result{}, err
	}
	gitBin, err := host.Tool("git")
	if err != nil {
		return host.Result{}, err
	}
	argv := append([]string{"-i"}, env(extraEnv...)...)
	argv = append(argv, gitBin, "--git-dir="+s.repo)
	for _, c := range append(append([]string{}, pinned...), config...) {
		argv = append(argv, "-c", c)
	}
	argv = append(argv, args...)
	res, err := s.Host.Runner.Run(ctx, host.Cmd{Name: envBin, Args: argv, Stdin: stdin})
	if err != nil {
		var ce *host.CmdError
		if errors.As(err, &ce) {
			return res, &GitError{Args: args, Code: res.Code, Msg: Redact(strings.TrimSpace(string(ce.Result.Stderr)))}
		}
		return res, err
	}
	return res, nil
}

// GitError is a git command that failed: its subcommand, exit code and
// what it said.
type GitError struct {
	Args []string
	Code int
	Msg  string
}

func (e *GitError) Error() string {
	sub := "git"
	if len(e.Args) > 0 {
		sub += " " + e.Args[0]
	}
	if e.Msg == "" {
		return fmt.Sprintf("%s: exit status %d", sub, e.Code)
	}
	return fmt.Sprintf("%s: %s", sub, strings.ReplaceAll(e.Msg, "\n", "; "))
}
