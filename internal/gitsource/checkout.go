package gitsource

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// entry is one blob of a tree, as git ls-tree -r -l lists it.
type entry struct {
	mode, kind, id, name string
	size                 int64
}

// Limits on a checkout, which is read into memory whole: nothing seconf
// reads from a configuration is larger than a policy source (64 MiB), and
// a configuration directory is not the place for bulk data. Variables for
// the tests.
var (
	maxBlob     int64 = 64 << 20
	maxCheckout int64 = 256 << 20
)

// Checkout writes the tree of commit c at Path into CheckoutDir/TREE and
// returns that directory's real path. An existing checkout of the same tree
// is complete (it was renamed into place only once written and synced) and
// is used as it is. c.Tree is filled in; one already there is taken to be
// the tree at Path (the caller has it from an earlier checkout).
func (s *Source) Checkout(ctx context.Context, c *Commit) (string, error) {
	if c.Tree == "" {
		tree, err := s.Tree(ctx, c.ID)
		if err != nil {
			return "", err
		}
		c.Tree = tree
	}
	tree := c.Tree
	parent, err := s.Host.FS.Path(CheckoutDir)
	if err != nil {
		return "", err
	}
	final := filepath.Join(parent, tree)
	if st, err := os.Lstat(final); err == nil && st.IsDir() {
		return final, nil
	}
	entries, err := s.list(ctx, c.ID, tree)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(parent, ".new-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // gone after the rename
	if err := s.write(ctx, tmp, entries); err != nil {
		return "", fmt.Errorf("check out commit %s: %w", Short(c.ID), err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	return final, syncDir(parent)
}

// list reads the tree's blobs and refuses what seconf does not check out.
func (s *Source) list(ctx context.Context, commit, tree string) ([]entry, error) {
	res, err := s.git(ctx, nil, nil, nil, "ls-tree", "-r", "-l", "-z", "--full-tree", tree)
	if err != nil {
		return nil, err
	}
	var out []entry
	var total int64
	for _, rec := range strings.Split(strings.TrimSuffix(string(res.Stdout), "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		meta, name, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			return nil, fmt.Errorf("git ls-tree: unexpected line %q", rec)
		}
		e := entry{mode: f[0], kind: f[1], id: f[2], name: name}
		// What the refusals name: the path in the repository, as its
		// author knows it, not the one inside --path.
		name = path.Join(s.Path, name)
		if err := checkName(e.name); err != nil {
			return nil, &RefusedError{Commit: commit, Reason: err.Error()}
		}
		switch {
		case e.mode == "120000":
			return nil, &RefusedError{Commit: commit, Reason: fmt.Sprintf("%s is a symbolic link; seconf checks out regular files only, so that nothing outside the commit is read: copy the file instead", name)}
		case e.kind == "commit":
			return nil, &RefusedError{Commit: commit, Reason: fmt.Sprintf("%s is a submodule; seconf does not fetch submodules: put the files in the repository", name)}
		case e.kind != "blob":
			return nil, &RefusedError{Commit: commit, Reason: fmt.Sprintf("%s is a %s", name, e.kind)}
		}
		if e.size, err = strconv.ParseInt(f[3], 10, 64); err != nil {
			return nil, fmt.Errorf("git ls-tree: size %q of %s", f[3], name)
		}
		if e.size > maxBlob {
			return nil, &RefusedError{Commit: commit, Reason: fmt.Sprintf("%s is %d bytes; seconf checks out files of at most %d MiB (nothing it reads from a configuration is larger): keep bulk data out of the configuration's directory", name, e.size, maxBlob>>20)}
		}
		if total += e.size; total > maxCheckout {
			return nil, &RefusedError{Commit: commit, Reason: fmt.Sprintf("the configuration's directory holds more than %d MiB; seconf checks out at most that: keep bulk data out of it", maxCheckout>>20)}
		}
		out = append(out, e)
	}
	return out, nil
}

// checkName refuses a path that would leave the checkout or that git's
// own fsck would have refused.
func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") {
		return fmt.Errorf("path %q in the tree", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." || strings.EqualFold(part, ".git") || strings.ContainsRune(part, 0) {
			return fmt.Errorf("path %q in the tree", name)
		}
	}
	return nil
}

// write reads every blob with one git cat-file --batch and writes it under
// dir with its mode, each file synced, then every directory.
func (s *Source) write(ctx context.Context, dir string, entries []entry) error {
	var in bytes.Buffer
	for _, e := range entries {
		in.WriteString(e.id + "\n")
	}
	res, err := s.git(ctx, in.Bytes(), nil, nil, "cat-file", "--batch")
	if err != nil {
		return err
	}
	r := bufio.NewReader(bytes.NewReader(res.Stdout))
	dirs := map[string]bool{dir: true}
	for _, e := range entries {
		header, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("git cat-file: short output at %s", e.name)
		}
		f := strings.Fields(header)
		if len(f) != 3 || f[0] != e.id || f[1] != "blob" {
			return fmt.Errorf("git cat-file: unexpected %q for %s", strings.TrimSpace(header), e.name)
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("git cat-file: size %q", f[2])
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			return fmt.Errorf("git cat-file: short object %s", e.name)
		}
		if b, err := r.ReadByte(); err != nil || b != '\n' {
			return fmt.Errorf("git cat-file: no newline after %s", e.name)
		}
		mode := fs.FileMode(0o644)
		if e.mode == "100755" {
			mode = 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		for d := filepath.Dir(p); !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeSynced(p, data, mode); err != nil {
			return err
		}
	}
	// Deepest first, so that each directory is synced after its entries.
	var ds []string
	for d := range dirs {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return len(ds[i]) > len(ds[j]) })
	for _, d := range ds {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func writeSynced(p string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	// The mode without the umask's say.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Prune removes every checkout but those of the given trees, and what a
// killed run left half-written.
func (s *Source) Prune(keep ...string) error {
	parent, err := s.Host.FS.Path(CheckoutDir)
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(parent)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	for _, k := range keep {
		if k != "" {
			kept[k] = true
		}
	}
	var errs []error
	for _, e := range ents {
		if kept[e.Name()] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// CheckoutPath is the real path of tree's checkout, whether or not it
// exists.
func (s *Source) CheckoutPath(tree string) (string, error) {
	parent, err := s.Host.FS.Path(CheckoutDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(parent, tree), nil
}
