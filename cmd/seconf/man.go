package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"seconf/host"
	"seconf/internal/lazyre"
)

// Man pages are written here rather than by cobra/doc: that package brings
// a Markdown parser and a YAML encoder whose package initialisation every
// run of seconf paid, the timer's included, for a command run once a
// release.

// manHeader is what the .TH line of every page says.
type manHeader struct {
	title, section, source, manual string
	date                           time.Time
}

// writeManPages writes one page per available command under cmd into dir.
func writeManPages(cmd *cobra.Command, hdr manHeader, dir string) error {
	dir, err := filepath.Abs(dir) // host.FS{} takes paths from /
	if err != nil {
		return err
	}
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := writeManPages(c, hdr, dir); err != nil {
			return err
		}
	}
	name := strings.ReplaceAll(cmd.CommandPath(), " ", "-") + "." + hdr.section
	return (host.FS{}).WriteFile(filepath.Join(dir, name), manPage(cmd, hdr), 0o644)
}

func manPage(cmd *cobra.Command, hdr manHeader) []byte {
	cmd.InitDefaultHelpFlag() // cobra adds -h only to a command it runs
	var b strings.Builder
	fmt.Fprintf(&b, ".nh\n.TH %q %q %q %q %q\n", hdr.title, hdr.section, hdr.date.Format("Jan 2006"), hdr.source, hdr.manual)
	dashed := strings.ReplaceAll(cmd.CommandPath(), " ", "-")
	fmt.Fprintf(&b, "\n.SH NAME\n%s - %s\n", dashed, roff(cmd.Short))
	fmt.Fprintf(&b, "\n.SH SYNOPSIS\n\\fB%s\\fP\n", roff(cmd.UseLine()))
	long := cmd.Long
	if long == "" {
		long = cmd.Short
	}
	b.WriteString("\n.SH DESCRIPTION\n")
	manText(&b, long)
	if fs := cmd.NonInheritedFlags(); fs.HasAvailableFlags() {
		b.WriteString("\n.SH OPTIONS\n")
		manFlags(&b, fs)
	}
	if fs := cmd.InheritedFlags(); fs.HasAvailableFlags() {
		b.WriteString("\n.SH OPTIONS INHERITED FROM PARENT COMMANDS\n")
		manFlags(&b, fs)
	}
	if cmd.Example != "" {
		fmt.Fprintf(&b, "\n.SH EXAMPLE\n.EX\n%s\n.EE\n", roff(cmd.Example))
	}
	var see []string
	if cmd.HasParent() {
		see = append(see, strings.ReplaceAll(cmd.Parent().CommandPath(), " ", "-"))
	}
	var children []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() && !c.IsAdditionalHelpTopicCommand() {
			children = append(children, strings.ReplaceAll(c.CommandPath(), " ", "-"))
		}
	}
	sort.Strings(children)
	see = append(see, children...)
	if len(see) > 0 {
		for i, s := range see {
			see[i] = fmt.Sprintf("\\fB%s(%s)\\fP", s, hdr.section)
		}
		fmt.Fprintf(&b, "\n.SH SEE ALSO\n%s\n", strings.Join(see, ", "))
	}
	return []byte(b.String())
}

// manText sets a command's long help: paragraphs apart by blank lines,
// tab-indented lines as examples, "#### Title" lines (cobra's completion
// help) as subsections.
func manText(b *strings.Builder, text string) {
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(para, "\n")
		switch {
		case strings.HasPrefix(para, "#### "):
			fmt.Fprintf(b, ".SS %s\n", roff(strings.TrimPrefix(para, "#### ")))
			continue
		case allIndented(lines):
			b.WriteString("\n.EX\n") // a blank line: set apart like a paragraph
			for _, l := range lines {
				b.WriteString(roff(strings.TrimPrefix(l, "\t")) + "\n")
			}
			b.WriteString(".EE\n")
			continue
		}
		if i > 0 {
			b.WriteString(".PP\n")
		}
		b.WriteString(roff(para) + "\n")
	}
}

func allIndented(lines []string) bool {
	for _, l := range lines {
		if !strings.HasPrefix(l, "\t") {
			return false
		}
	}
	return true
}

// quotedName is pflag's `NAME` in a flag's usage: set in bold.
var quotedName = lazyre.New("`([^`]*)`")

func manFlags(b *strings.Builder, fs *pflag.FlagSet) {
	first := true
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" {
			return
		}
		if !first {
			b.WriteString(".PP\n")
		}
		first = false
		name := "\\fB--" + f.Name + "\\fP"
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			name = "\\fB-" + f.Shorthand + "\\fP, " + name
		}
		def := "=" + f.DefValue
		if f.Value.Type() == "string" {
			def = fmt.Sprintf("=%q", f.DefValue)
		}
		if f.NoOptDefVal != "" {
			def = "[" + def + "]"
		}
		usage := quotedName.ReplaceAllString(roff(f.Usage), `\fB$1\fR`)
		fmt.Fprintf(b, "%s%s\n\t%s\n", name, roff(def), usage)
	})
}

// roff escapes text for troff: backslashes, and a control character (. or
// ') at the start of a line.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
