package selinux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"seconf/config"
	"seconf/host"
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
		return fromPP(ctx, r, m.Source)
	case config.FormatTE:
		if err := stageTE(m, work); err != nil {
			return nil, err
		}
		mk, err := host.Tool("make")
		if err != nil {
			return nil, err
		}
		if _, err := r.Run(ctx, host.Cmd{Name: mk, Args: []string{"-f", host.DevelMakefile, m.Name + ".pp"}, Dir: work}); err != nil {
			return nil, compileError(m, err)
		}
		return fromPP(ctx, r, filepath.Join(work, m.Name+".pp"))
	}
	return nil, fmt.Errorf("unknown module format %q", m.Format)
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

func fromPP(ctx context.Context, r host.Runner, pp string) (*compiled, error) {
	data, err := os.ReadFile(pp)
	if err != nil {
		return nil, err
	}
	res, err := r.Run(ctx, host.Cmd{Name: host.PPToCIL, Stdin: data})
	if err != nil {
		return nil, fmt.Errorf("convert %s to CIL: %w", filepath.Base(pp), err)
	}
	return &compiled{file: pp, cil: res.Stdout, sum: checksum(res.Stdout)}, nil
}

var lineRe = regexp.MustCompile(`(?m)^([A-Za-z0-9_.-]+\.(?:te|if|fc)):(\d+):`)

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
