package selinux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"seconf/config"
	"seconf/host"
	"seconf/internal/lazyre"
)

// compiled is a module ready to install.
type compiled struct {
	file string // what semodule -i gets
	cil  []byte // what the store will hold
	sum  string // sha256 of cil, as semodule -lfull -m prints it
}

// compile turns a module's source into the file to install and its CIL.
// Work happens in dir, a private temporary directory.
func compile(ctx context.Context, r host.Runner, m *config.Module, dir string) (*compiled, error) {
	work := filepath.Join(dir, m.Name)
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	switch m.Format {
	case config.FormatCIL:
		data := []byte(m.Content)
		if m.Source != "" {
			var err error
			if data, err = os.ReadFile(m.Source); err != nil {
				return nil, err
			}
		}
		// semodule names a CIL module after its file.
		file := filepath.Join(work, m.Name+".cil")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			return nil, err
		}
		return &compiled{file: file, cil: data, sum: checksum(data)}, nil
	case config.FormatPP:
		data, err := os.ReadFile(m.Source)
		if err != nil {
			return nil, err
		}
		return fromPP(ctx, r, m.Source, data)
	case config.FormatTE:
		return compileTE(ctx, r, m, work)
	}
	return nil, fmt.Errorf("unknown module format %q", m.Format)
}

// maxPP bounds what seconf reads back from a compile: Debian's largest
// policy module package is a few hundred KiB.
const maxPP = 64 << 20

// compileTE builds a .te with the devel Makefile. make, m4 and checkmodule
// do what the sources say, m4's esyscmd included, so the build runs in the
// compile sandbox: as nobody, without network, seeing the system's /usr and
// its sources only. They are staged in work/src, the sandbox's one writable
// directory; the package it leaves there is read without following links
// and copied to work, which only root can write, for semodule to install.
func compileTE(ctx context.Context, r host.Runner, m *config.Module, work string) (*compiled, error) {
	src := filepath.Join(work, "src")
	// Afresh: make would take a package left by an earlier build as done.
	if err := os.RemoveAll(src); err != nil {
		return nil, err
	}
	if err := os.Mkdir(src, 0o700); err != nil {
		return nil, err
	}
	if err := stageTE(m, src); err != nil {
		return nil, err
	}
	mk, err := host.Tool("make")
	if err != nil {
		return nil, err
	}
	if _, err := r.Run(ctx, host.Cmd{Name: mk, Args: []string{"-f", host.DevelMakefile, m.Name + ".pp"}, Dir: src,
		Sandbox: &host.Sandbox{Compile: true, WorkDir: src}}); err != nil {
		return nil, compileError(m, err)
	}
	data, err := host.ReadUntrusted(filepath.Join(src, m.Name+".pp"), maxPP)
	if err != nil {
		return nil, fmt.Errorf("read the compiled module: %w", err)
	}
	pp := filepath.Join(work, m.Name+".pp")
	if err := os.WriteFile(pp, data, 0o600); err != nil {
		return nil, err
	}
	return fromPP(ctx, r, pp, data)
}

// stageTE copies the .te and the .if/.fc of the same base name beside it.
func stageTE(m *config.Module, work string) error {
	te := []byte(m.Content)
	if m.Source != "" {
		var err error
		if te, err = os.ReadFile(m.Source); err != nil {
			return err
		}
		base := strings.TrimSuffix(m.Source, ".te")
		for _, ext := range []string{".if", ".fc"} {
			data, err := os.ReadFile(base + ext)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(work, m.Name+ext), data, 0o600); err != nil {
				return err
			}
		}
	}
	return os.WriteFile(filepath.Join(work, m.Name+".te"), te, 0o600)
}

// fromPP converts a policy package (file, holding data) to CIL. The
// converter parses untrusted binary input, so it too runs in the compile
// sandbox; it reads stdin and writes stdout and needs no files at all.
func fromPP(ctx context.Context, r host.Runner, file string, data []byte) (*compiled, error) {
	res, err := r.Run(ctx, host.Cmd{Name: host.PPToCIL, Stdin: data, Sandbox: &host.Sandbox{Compile: true}})
	if err != nil {
		return nil, fmt.Errorf("convert %s to CIL: %w", filepath.Base(file), err)
	}
	return &compiled{file: file, cil: res.Stdout, sum: checksum(res.Stdout)}, nil
}

var lineRe = lazyre.New(`(?m)^([A-Za-z0-9_.-]+\.(?:te|if|fc)):(\d+):`)

// compileError keeps the compiler's words and points them at the user's
// file: the devel Makefile names its staged copy, whose lines match the
// source's thanks to m4's line sync.
func compileError(m *config.Module, err error) error {
	var ce *host.CmdError
	if !errors.As(err, &ce) {
		return err
	}
	out := string(ce.Result.Stderr) + string(ce.Result.Stdout)
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "make") || strings.HasPrefix(l, "Compiling") || strings.TrimSpace(l) == "" {
			continue
		}
		keep = append(keep, l)
	}
	msg := strings.Join(keep, "\n")
	msg = lineRe.ReplaceAllStringFunc(msg, func(s string) string {
		sub := lineRe.FindStringSubmatch(s)
		n, _ := strconv.Atoi(sub[2])
		if m.Source != "" {
			if filepath.Ext(sub[1]) == ".te" {
				return fmt.Sprintf("%s:%d:", m.Source, n)
			}
			return fmt.Sprintf("%s:%d:", strings.TrimSuffix(m.Source, ".te")+filepath.Ext(sub[1]), n)
		}
		// Inline content starts on the line after the heredoc marker.
		rng := m.AttrRange("content")
		return fmt.Sprintf("%s:%d:", rng.Filename, rng.Start.Line+n)
	})
	return fmt.Errorf("policy does not compile:\n%s", msg)
}
