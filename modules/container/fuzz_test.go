package container

import (
	"path"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/google/go-cmp/cmp"

	"seconf/config"
	"seconf/modules/units"
)

// fuzzInput is one fuzzed container: the values that are free text
// (command arguments, an environment value) and the ones that name things.
type fuzzInput struct {
	arg1, arg2, envValue, image, volume, level string
	sensitive                                  bool
}

func (in fuzzInput) container() *config.Container {
	return ctr("fuzz", func(c *config.Container) {
		c.Image = in.image
		c.Command = []string{in.arg1, in.arg2}
		c.Environment = map[string]string{"KEY": in.envValue, "OTHER": "x"}
		c.Sensitive = map[string]bool{"KEY": in.sensitive}
		c.SELinuxType = "container_t"
		c.SELinuxLevel = in.level
		c.Volumes = []config.Volume{{Source: in.volume, Target: "/data", Relabel: config.RelabelPrivate}}
	})
}

// plainInput has the same shape with values that need no escaping at all:
// a rendering of it is the layout every fuzzed rendering must keep (no
// value may add, drop or split an option).
func (in fuzzInput) plainInput() fuzzInput {
	p := fuzzInput{"a", "b", "v", "img", "/v", "", in.sensitive}
	if in.level != "" {
		p.level = "s0"
	}
	return p
}

// valid is what config lets through: UTF-8 that config.BadRune passes
// (no controls, invisible characters or non-ASCII spaces).
func (in fuzzInput) valid() bool {
	for _, s := range []string{in.arg1, in.arg2, in.envValue, in.image, in.volume, in.level} {
		if _, _, bad := config.BadRune(s, false); !utf8.ValidString(s) || bad {
			return false
		}
	}
	return true
}

// refused restates the documented refusals (doc.go) independently of the
// code, so the fuzzer checks the rules as well as the escaping.
func (in fuzzInput) refused(quadlet bool) bool {
	control := func(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }
	// A name: not empty, no leading '-' (an option to podman and docker),
	// nothing that is not a printable non-space character, no quotes or
	// backslashes.
	token := func(s string) bool {
		return s == "" || s[0] == '-' || control(s) || strings.ContainsAny(s, `"'\`) ||
			strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0
	}
	switch {
	case token(in.image), in.level != "" && token(in.level), token(in.volume),
		!path.IsAbs(in.volume), strings.ContainsAny(in.volume, ":$"),
		control(in.arg1), control(in.arg2), control(in.envValue):
		return true
	}
	if quadlet {
		for _, a := range []string{in.arg1, in.arg2} {
			if a == "" || a == ";" {
				return true
			}
		}
		return strings.HasSuffix(in.image, ".image") || strings.HasSuffix(in.image, ".build")
	}
	return false
}

func fuzzRender(t *testing.T, in fuzzInput, rendering string, render func(*config.Container, Links) ([]units.File, error)) {
	if !in.valid() {
		t.Skip("config refuses this input")
	}
	c := in.container()
	files, err := render(c, Links{})
	if refused := in.refused(rendering == "quadlet"); refused != (err != nil) {
		t.Fatalf("refused by the rules: %v; render error: %v", refused, err)
	}
	if err != nil {
		return
	}
	// systemd reads lines up to 1 MiB; go-systemd's parser, the checker
	// here, stops at 2048 bytes: such a rendering cannot be checked.
	for _, f := range files {
		for _, l := range strings.Split(string(f.Data), "\n") {
			if len(l) >= unit.SYSTEMD_LINE_MAX { // the line and its newline must fit
				t.Skip("a line longer than the checker reads")
			}
		}
	}
	ref, err := render(in.plainInput().container(), Links{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		if path.Ext(files[i].Path) == ".env" {
			continue // not a unit; checkParseBack reads it
		}
		if d := cmp.Diff(parseUnit(t, ref[i].Data).keys(), parseUnit(t, files[i].Data).keys()); d != "" {
			t.Fatalf("%s: options differ from the plain rendering's (-plain +fuzzed):\n%s\n%s", files[i].Path, d, files[i].Data)
		}
	}
	checkParseBack(t, rendering, c, Links{}, files)
}

// The seed corpora are under testdata/fuzz/.

func FuzzRenderQuadlet(f *testing.F) {
	f.Fuzz(func(t *testing.T, arg1, arg2, envValue, image, volume, level string, sensitive bool) {
		fuzzRender(t, fuzzInput{arg1, arg2, envValue, image, volume, level, sensitive}, "quadlet", RenderQuadlet)
	})
}

func FuzzRenderService(f *testing.F) {
	f.Fuzz(func(t *testing.T, arg1, arg2, envValue, image, volume, level string, sensitive bool) {
		in := fuzzInput{arg1, arg2, envValue, image, volume, level, sensitive}
		fuzzRender(t, in, "podman service", RenderPodmanService)
		fuzzRender(t, in, "docker service", RenderDockerService)
	})
}
