package units

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestQuadletNames: the service a quadlet file generates, and the quadlet
// files that would generate a service, as podman's quadlet names them
// (NAME.volume → NAME-volume.service).
func TestQuadletNames(t *testing.T) {
	for file, want := range map[string]string{
		"/etc/containers/systemd/web.container": "web.service",
		"/etc/containers/systemd/data.volume":   "data-volume.service",
		"/etc/containers/systemd/lan.network":   "lan-network.service",
		"/etc/containers/systemd/x.pod":         "",
		"/etc/systemd/system/web.service":       "web.service",
		"/etc/seconf/env/web.env":               "",
	} {
		if got := unitOf(file); got != want {
			t.Errorf("unitOf(%s) = %q, want %q", file, got, want)
		}
	}
	for name, want := range map[string][]string{
		"web.service":         {"web.container"},
		"data-volume.service": {"data-volume.container", "data.volume"},
		"lan-network.service": {"lan-network.container", "lan.network"},
		"-volume.service":     {"-volume.container"},
		"web.mount":           nil,
	} {
		if d := cmp.Diff(want, quadletSources(name)); d != "" {
			t.Errorf("quadletSources(%s) (-want +got):\n%s", name, d)
		}
	}
}
