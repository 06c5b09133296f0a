package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"seconf/config"
	"seconf/host"
	"seconf/modules/selinux"
	"seconf/modules/selinux/confine"
)

// auditLog is where auditd writes, on the host seconf manages.
const auditLog = "/var/log/audit/audit.log"

func newPolicyCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Show and refine the SELinux types seconf generates for containers",
	}
	show := &cobra.Command{
		Use:   "show container.NAME PATH...",
		Short: "Print the policy module seconf generates for a container with confine = true",
		Long: `show prints the .te module seconf writes for a container with confine = true,
as apply would install it on this host (or the root given with --root): written
from the container's declaration, the root's file contexts and policy. Read it
to review what the container may do; copy it into a selinux_module of your own
to take it over (then set selinux_type instead of confine). Warnings about
volumes the module does not grant go to stderr.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error { return o.runPolicyShow(args[0], args[1:]) },
	}
	var logFile string
	avc := &cobra.Command{
		Use:   "avc container.NAME PATH...",
		Short: "Read a container's SELinux denials and propose what to declare",
		Long: `avc reads the AVC denials of the container's SELinux type and proposes what
would answer them: first changes to the container's declaration (a writable
volume, a new volume, a published port, a network), then allow rules for a
selinux_module of your own, each flagged when dangerous. It reads the root's
/var/log/audit/audit.log, or on the live host without auditd the journal;
--log reads a file of audit records instead. Nothing is changed.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return o.runPolicyAVC(c.Context(), args[0], args[1:], logFile)
		},
	}
	avc.Flags().StringVar(&logFile, "log", "", "read audit records from `FILE` (audit.log, ausearch output, or the kernel log)")
	cmd.AddCommand(show, avc)
	return cmd
}

// container loads the configuration and finds the container an argument
// names (container.NAME, or NAME).
func (o *options) container(id string, paths []string) (*config.Config, *config.Container, error) {
	name := strings.TrimPrefix(id, config.KindContainer+".")
	cfg, err := o.load(paths)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cfg.Containers {
		if c.Name == name {
			return cfg, c, nil
		}
	}
	return nil, nil, fmt.Errorf("the configuration has no container %q (give container.NAME and the configuration's paths)", name)
}

func (o *options) runPolicyShow(id string, paths []string) error {
	cfg, c, err := o.container(id, paths)
	if err != nil {
		return err
	}
	if !c.Confine {
		return fmt.Errorf("%s does not set confine = true: seconf generates no module for it", c.ID())
	}
	h, err := o.host()
	if err != nil {
		return err
	}
	defer h.Close()
	gen, diags := selinux.Confined(h, cfg)
	if err := o.planDiagsTo(diags); err != nil {
		return err
	}
	for _, g := range gen {
		if g.Container == c {
			_, err := fmt.Fprint(o.stdout, g.Module.Content)
			return err
		}
	}
	return fmt.Errorf("%s: no module generated", c.ID())
}

// planDiagsTo prints diagnostics on stderr and fails on errors: show's
// stdout is the module alone, so that it can be redirected into a file.
func (o *options) planDiagsTo(diags hcl.Diagnostics) error {
	if len(diags) > 0 {
		o.printDiags(o.stderr, diags)
	}
	if diags.HasErrors() {
		return exitError{1}
	}
	return nil
}

func (o *options) runPolicyAVC(ctx context.Context, id string, paths []string, logFile string) error {
	ctx, cancel := signalContext(ctx)
	defer cancel()
	cfg, c, err := o.container(id, paths)
	if err != nil {
		return err
	}
	if c.SELinuxType == "" {
		return fmt.Errorf("%s runs as container_t, with every other container: its denials are not its own. Give it a type of its own (confine = true) first", c.ID())
	}
	h, err := o.host()
	if err != nil {
		return err
	}
	defer h.Close()
	data, source, err := readAudit(ctx, h, logFile)
	if err != nil {
		return err
	}
	in, err := selinux.ContainerInput(h, cfg, c)
	if err != nil {
		return err
	}
	denials := confine.ParseAudit(data)
	selinux.LocateDenials(h, c, denials)
	props := confine.Propose(in, c.SELinuxType, denials)
	where := func(i int) string {
		r := c.Volumes[i].Range
		return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
	}
	_, err = fmt.Fprint(o.stdout, confine.Report(c, c.SELinuxType, source, denials, props, where))
	return err
}

// readAudit reads the audit records: --log's file, else the root's
// audit.log, else (on the live host, where auditd may not run) the
// journal, which keeps the kernel's audit records then.
func readAudit(ctx context.Context, h *host.Host, logFile string) ([]byte, string, error) {
	if logFile != "" {
		data, err := os.ReadFile(logFile)
		return data, logFile, err
	}
	data, err := h.FS.ReadFile(auditLog)
	if err == nil {
		return data, auditLog, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || h.Offline() {
		return nil, "", fmt.Errorf("read %s: %w (give --log FILE to read audit records from elsewhere)", auditLog, err)
	}
	journalctl, err := host.Tool("journalctl")
	if err != nil {
		return nil, "", err
	}
	res, err := h.Runner.Run(ctx, host.Cmd{Name: journalctl, Args: []string{"--no-pager", "-o", "json", "_TRANSPORT=audit", "_TRANSPORT=kernel"}})
	if err != nil {
		return nil, "", err
	}
	return confine.JournalToAudit(res.Stdout), "the journal", nil
}
