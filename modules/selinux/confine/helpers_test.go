package confine

import (
	"os"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"seconf/config"
	"seconf/modules/selinux/filecontexts"
	"seconf/modules/selinux/policydb"
)

// The machine's own policy and file contexts (Debian's refpolicy): the
// generator is tested against a real policy, not a stand-in.
const (
	machinePolicy = "/etc/selinux/default/policy/policy.33"
	machineFC     = "/etc/selinux/default/contexts/files/file_contexts"
)

var (
	polOnce sync.Once
	pol     *policydb.Policy
	fcs     *filecontexts.Set
	polErr  error
)

func machine(t testing.TB) (*policydb.Policy, *filecontexts.Set) {
	t.Helper()
	polOnce.Do(func() {
		var data []byte
		if data, polErr = os.ReadFile(machinePolicy); polErr != nil {
			return
		}
		if pol, polErr = policydb.Parse(data); polErr != nil {
			return
		}
		fcs, polErr = filecontexts.Open(os.ReadFile, machineFC)
	})
	if polErr != nil {
		t.Fatalf("this machine's policy (install selinux-policy-default): %v", polErr)
	}
	return pol, fcs
}

// refpolicyContainer names what refpolicy's container module declares:
// Debian 12's stock policy lacks it, and a configuration installs it in
// the same transaction as the generated module.
var refpolicyContainer = map[string]bool{
	"container_domain": true, "container_system_domain": true, "container_net_domain": true, "container_file_t": true,
}

// input builds a generator input for a container, labelling each volume as
// the machine's file contexts label its source (as a directory).
func input(t testing.TB, c *config.Container) Input {
	p, fc := machine(t)
	in := Input{Container: c, Flavor: Refpolicy, Policy: p, Declared: refpolicyContainer, Labels: map[string]Label{}}
	for _, b := range Binds(c) {
		ctx, ok := fc.Lookup(b.Source, filecontexts.Any)
		lb := Label{From: "the root's file contexts"}
		if ok {
			lb.Context = ctx.String()
		}
		in.Labels[b.Source] = lb
	}
	return in
}

func container(name string, vols ...config.Volume) *config.Container {
	c := &config.Container{Block: config.Block{Kind: config.KindContainer, Name: name, Ranges: map[string]hcl.Range{}}, Engine: "podman", Confine: true}
	for _, v := range vols {
		if v.Relabel == "" {
			v.Relabel = config.RelabelNone
		}
		c.Volumes = append(c.Volumes, v)
	}
	c.SELinuxType = config.ConfinedType(name)
	return c
}

var _ Policy = (*policydb.Policy)(nil)
