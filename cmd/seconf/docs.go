package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

func newDocsCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Generate seconf's documentation from its commands",
	}
	man := &cobra.Command{
		Use:   "man DIR",
		Short: "Write man pages (seconf.1, seconf-apply.1, ...) into DIR",
		Long: `man writes one man page per command into DIR, created if missing, e.g. for
/usr/local/share/man/man1. The date is SOURCE_DATE_EPOCH's when set, so that
a packaged build is reproducible.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			date, err := sourceDate()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			v, _ := buildVersion()
			hdr := manHeader{title: "SECONF", section: "1", source: "seconf " + v, manual: "seconf manual", date: date}
			if err := writeManPages(c.Root(), hdr, args[0]); err != nil {
				return fmt.Errorf("write man pages: %w", err)
			}
			fmt.Fprintf(o.stdout, "Man pages written to %s.\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(man)
	return cmd
}

// sourceDate is the date man pages carry: SOURCE_DATE_EPOCH (the
// reproducible-builds convention) or now.
func sourceDate() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Now(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: not a number of seconds", s)
	}
	return time.Unix(n, 0).UTC(), nil
}
