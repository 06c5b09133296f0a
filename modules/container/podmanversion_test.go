package container

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"seconf/config"
)

// TestNewerPodmanHoldsToThisPodman: on a machine whose podman is older
// than 4.4 (Debian 12's 4.3), every podman run flag seconf renders that
// this podman does not know is one olderPodman refuses, and each one it
// refuses is really unknown here: the table is held to the real tool.
func TestNewerPodmanHoldsToThisPodman(t *testing.T) {
	out, err := exec.Command("podman", "run", "--help").CombinedOutput()
	if err != nil {
		t.Skipf("podman run --help: %v (scripts/deps installs podman)", err)
	}
	ver, _ := exec.Command("podman", "--version").Output()
	var major, minor int
	if _, err := fmt.Sscanf(strings.TrimPrefix(strings.TrimSpace(string(ver)), "podman version "), "%d.%d", &major, &minor); err != nil || major > 4 || major == 4 && minor >= 4 {
		t.Skipf("podman here is %s, not older than 4.4", strings.TrimSpace(string(ver)))
	}
	known := map[string]bool{}
	for _, f := range regexp.MustCompile(`--[a-z0-9-]+`).FindAllString(string(out), -1) {
		known[f] = true
	}
	refused := map[string]bool{}
	for _, n := range newerPodman {
		flag, _, _ := strings.Cut(n.flag, "=")
		refused[flag] = refused[flag] || n.value == ""
		if n.value == "" && known[flag] {
			t.Errorf("%s is refused, and podman %s knows %s", n.attr, strings.TrimSpace(string(ver)), flag)
		}
	}
	for _, o := range config.ContainerOptions {
		if o.Podman == "" || !strings.HasPrefix(o.Podman, "--") {
			continue
		}
		flag, _, _ := strings.Cut(o.Podman, "=")
		if !known[flag] && !refused[flag] {
			t.Errorf("%s renders %s, which podman %s does not know, and olderPodman lets it through", o.Attr, flag, strings.TrimSpace(string(ver)))
		}
	}
}
