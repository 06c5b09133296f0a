package confine

import (
	"fmt"
	"os"
	"path/filepath"
	"seconf/internal/lazyre"
	"sort"
	"strconv"
	"strings"
)

// Flavor is the container policy a generated module is written against:
// which template declares a container domain, and the names of the
// attributes and types around it. The names differ between refpolicy's
// container module (Debian) and container-selinux (Fedora, RHEL), and older
// Fedora and RHEL 7 name everything svirt_sandbox.
type Flavor struct {
	// Name says which policy this is, for comments and messages.
	Name string
	// Template declares NAME_t as a container domain.
	Template string
	// FileArg: the template takes the prefix of the container file type as
	// its second argument (container-selinux: container_domain_template(x,
	// container)).
	FileArg bool
	// Domain is the attribute every container domain has; FileType the
	// type of the containers' own files, which the engine labels the image
	// with.
	Domain, FileType string
	// SystemDomain makes a container one the system engines (podman_t,
	// dockerd_t) may start and watch, as container_t is; empty where the
	// policy has no such split.
	SystemDomain string
	// NetDomain gives a container the network, as the default container
	// type (Default) has it.
	NetDomain, Default string
	// Entrypoint: the template lets the domain be entered from FileType
	// itself. refpolicy before 2023 grants that to container_t alone, so
	// the module must.
	Entrypoint bool
}

// Flavors seconf knows, by the template that tells them apart.
var (
	Refpolicy = Flavor{Name: "refpolicy", Template: "container_domain_template", Domain: "container_domain",
		FileType: "container_file_t", SystemDomain: "container_system_domain", NetDomain: "container_net_domain", Default: "container_t"}
	ContainerSELinux = Flavor{Name: "container-selinux", Template: "container_domain_template", FileArg: true,
		Domain: "container_domain", FileType: "container_file_t", NetDomain: "container_net_domain", Default: "container_t"}
	VirtSandbox = Flavor{Name: "virt sandbox", Template: "virt_sandbox_domain_template", Domain: "svirt_sandbox_domain",
		FileType: "svirt_sandbox_file_t", NetDomain: "sandbox_net_domain", Default: "svirt_lxc_net_t"}
)

// templateRe finds a template's definition in an interface file.
var templateRe = lazyre.New("(?m)^template\\(`(container_domain_template|virt_sandbox_domain_template)'")

var argRe = lazyre.New(`\$([1-9])`)

// DetectFlavor chooses the flavor from interface files (name → text), as
// the devel headers that compile the module hold them:
// container_domain_template if any file defines it (two arguments:
// container-selinux, one: refpolicy), else virt_sandbox_domain_template.
// The policy the module is installed into must then have the flavor's
// attributes, which Generate checks.
func DetectFlavor(files map[string][]byte) (Flavor, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	bodies := map[string]string{}
	for _, n := range names {
		text := string(files[n])
		for _, loc := range templateRe.Compiled().FindAllStringSubmatchIndex(text, -1) {
			name := text[loc[2]:loc[3]]
			if _, seen := bodies[name]; seen {
				continue
			}
			body := text[loc[1]:]
			if end := strings.Index(body, "\n')"); end >= 0 {
				body = body[:end]
			}
			bodies[name] = body
		}
	}
	if body, ok := bodies["container_domain_template"]; ok {
		f := Refpolicy
		if maxArg(body) >= 2 {
			f = ContainerSELinux
		}
		f.Entrypoint = strings.Contains(body, "entrypoint")
		return f, nil
	}
	if body, ok := bodies["virt_sandbox_domain_template"]; ok {
		f := VirtSandbox
		f.Entrypoint = strings.Contains(body, "entrypoint")
		return f, nil
	}
	return Flavor{}, fmt.Errorf("the policy devel headers define neither container_domain_template nor virt_sandbox_domain_template: install the container policy's interfaces (Debian: selinux-policy-dev; Fedora: container-selinux and selinux-policy-devel)")
}

func maxArg(body string) int {
	n := 0
	for _, m := range argRe.FindAllStringSubmatch(body, -1) {
		if v, _ := strconv.Atoi(m[1]); v > n {
			n = v
		}
	}
	return n
}

// ReadHeaders reads the interface files that may define a container
// template under a devel include directory (its container.if and virt.if,
// in whichever layer directory the distribution keeps them).
func ReadHeaders(include string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, pat := range []string{"*/container.if", "*/virt.if", "*/docker.if"} {
		matches, err := filepath.Glob(filepath.Join(include, pat))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			data, err := os.ReadFile(m)
			if err != nil {
				return nil, err
			}
			rel, _ := filepath.Rel(include, m)
			out[rel] = data
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no container.if or virt.if under %s: install the policy devel headers (Debian: selinux-policy-dev; Fedora: selinux-policy-devel and container-selinux)", include)
	}
	return out, nil
}

// requires lists the names the flavor's module requires of the policy,
// given whether the container has a network.
func (f Flavor) requires(network bool) []string {
	out := []string{f.Domain, f.FileType}
	if f.SystemDomain != "" {
		out = append(out, f.SystemDomain)
	}
	if network {
		out = append(out, f.NetDomain)
	}
	return out
}
