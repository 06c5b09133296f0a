package config

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

var (
	teModuleRe = regexp.MustCompile(`(?m)^\s*policy_module\(\s*` + "`?" + `([A-Za-z0-9_.-]+)`)
	teRawRe    = regexp.MustCompile(`(?m)^\s*module\s+([A-Za-z0-9_.-]+)\s`)
)

// checkTEName holds a .te module to the name the block gives it: semodule
// names a module after policy_module(), so a mismatch would install one name
// and then look for another forever.
func (l *loader) checkTEName(name, text string, rng hcl.Range) {
	found := ""
	if m := teModuleRe.FindStringSubmatch(text); m != nil {
		found = m[1]
	} else if m := teRawRe.FindStringSubmatch(text); m != nil {
		found = m[1]
	}
	switch {
	case found == "":
		l.errorf(&rng, "No module statement", "The policy has no policy_module(%s, VERSION) line; add one as its first statement.", name)
	case found != name:
		l.errorf(&rng, "Module name mismatch", "The policy declares module %q but the block is selinux_module %q. Rename one so that they match.", found, name)
	}
}

// PPName reads the module name from a policy package's header.
func PPName(data []byte) (string, error) {
	const pkgMagic, modMagic = 0xf97cff8f, 0xf97cff8d
	r := bytes.NewReader(data)
	var hdr [3]uint32 // magic, version, number of sections
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil || hdr[0] != pkgMagic || hdr[2] == 0 || hdr[2] > 16 {
		return "", fmt.Errorf("not a policy package")
	}
	offsets := make([]uint32, hdr[2])
	if err := binary.Read(r, binary.LittleEndian, offsets); err != nil || int(offsets[0]) >= len(data) {
		return "", fmt.Errorf("truncated policy package")
	}
	r = bytes.NewReader(data[offsets[0]:])
	var m [2]uint32 // module magic, length of the identifier string
	if err := binary.Read(r, binary.LittleEndian, &m); err != nil || m[0] != modMagic || m[1] > 64 {
		return "", fmt.Errorf("policy package holds no module")
	}
	// The identifier string, then policy type, version, config, symbol and
	// object-context counts, then the name.
	var fixed [5]uint32
	if _, err := r.Seek(int64(8+m[1]), 0); err != nil {
		return "", err
	}
	if err := binary.Read(r, binary.LittleEndian, &fixed); err != nil {
		return "", fmt.Errorf("truncated module header")
	}
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || n == 0 || n > 256 {
		return "", fmt.Errorf("module has no name")
	}
	name := make([]byte, n)
	if _, err := r.Read(name); err != nil {
		return "", fmt.Errorf("truncated module name")
	}
	return string(name), nil
}

func (l *loader) checkPPName(m *Module) {
	rng := m.AttrRange("source")
	data, err := os.ReadFile(m.Source)
	if err != nil {
		l.errorf(&rng, "Cannot read source", "%v.", err)
		return
	}
	name, err := PPName(data)
	if err != nil {
		l.errorf(&rng, "Not a policy package", "%s: %v. Give a .pp built by checkmodule and semodule_package (or the devel Makefile).", m.Source, err)
		return
	}
	if name != m.Name {
		l.errorf(&rng, "Module name mismatch", "The package holds module %q but the block is selinux_module %q. Rename one so that they match.", name, m.Name)
	}
}

// systemDirs are host directories whose labels other confined services rely
// on; relabelling them for a container breaks those services.
var systemDirs = []string{"/", "/etc", "/usr", "/var", "/var/log", "/var/lib", "/home", "/root", "/boot", "/run", "/dev", "/proc", "/sys"}

// treesNeverRelabelled: nothing below these may be relabelled either.
var treesNeverRelabelled = []string{"/usr", "/etc", "/boot"}

// IsSystemDir reports whether relabelling p for a container is refused.
func IsSystemDir(p string) bool {
	for _, d := range systemDirs {
		if p == d {
			return true
		}
	}
	for _, d := range treesNeverRelabelled {
		if strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

const confineAdvice = "Give the container its own SELinux type instead: a selinux_module that declares it (container_domain_template) and allows exactly what it needs, and selinux_type on the container. If you really mean it, set allow_unconfined = true."

// checkConfinement refuses the usual ways of switching SELinux off for a
// container, unless the block opts in explicitly.
func (l *loader) checkConfinement(c *Container) {
	if c.AllowUnconfined {
		return
	}
	refuse := func(attr, what string) {
		rng := c.AttrRange(attr)
		l.errorf(&rng, "Unconfined container refused", "container %q: %s. %s", c.Name, what, confineAdvice)
	}
	if c.Privileged {
		refuse("privileged", "privileged = true turns SELinux (and most other confinement) off for the container")
	}
	switch c.SELinuxType {
	case "spc_t", "unconfined_t", "container_runtime_t", "kernel_t", "initrc_t":
		refuse("selinux_type", fmt.Sprintf("selinux_type %q is an unconfined type", c.SELinuxType))
	}
	if strings.Contains(c.SELinuxLevel, "disable") {
		refuse("selinux_level", "a label that disables SELinux separation is refused")
	}
	for _, v := range c.Volumes {
		if v.Relabel != RelabelNone && IsSystemDir(v.Source) {
			rng := v.Range
			flag := map[string]string{RelabelShared: ":z", RelabelPrivate: ":Z"}[v.Relabel]
			l.errorf(&rng, "Relabelling a system directory refused",
				"container %q: relabel = %q (%s) would relabel %s for containers and break the host services that use it (logrotate, log scanners, ...). Use relabel = \"none\". %s",
				c.Name, v.Relabel, flag, v.Source, confineAdvice)
		}
	}
}

// checkCycles reports dependency cycles with the chain that forms them.
func (l *loader) checkCycles() {
	deps := map[string][]Ref{}
	decl := map[string]hcl.Range{}
	var order []string
	add := func(b *Block) {
		deps[b.ID()] = b.Deps
		decl[b.ID()] = b.DeclRange
		order = append(order, b.ID())
	}
	for _, m := range l.cfg.Modules {
		add(&m.Block)
	}
	for _, m := range l.cfg.Mounts {
		add(&m.Block)
	}
	for _, c := range l.cfg.Containers {
		add(&c.Block)
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(id string) bool
	visit = func(id string) bool {
		color[id] = grey
		stack = append(stack, id)
		for _, d := range deps[id] {
			switch color[d.ID()] {
			case grey:
				i := 0
				for stack[i] != d.ID() {
					i++
				}
				chain := append(append([]string{}, stack[i:]...), d.ID())
				rng := d.Range
				l.errorf(&rng, "Dependency cycle", "%s. Remove one of these references or depends_on entries.", strings.Join(chain, " → "))
				return true
			case white:
				if visit(d.ID()) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
		return false
	}
	for _, id := range order {
		if color[id] == white && visit(id) {
			return
		}
	}
}
