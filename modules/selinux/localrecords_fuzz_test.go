package selinux

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seconf/config"
)

// FuzzLocalRecords: settings in, the store's local files out as libsemanage
// writes them, parsed back: the same records, for any names and ranges a
// configuration can hold.
func FuzzLocalRecords(f *testing.F) {
	f.Add("httpd_can_network_connect", true, "/srv/data(/.*)?", uint8(0), "httpd_sys_content_t", "tcp", uint16(5000), uint16(10), "/usr/lib/podman", "/usr/libexec/podman", true)
	f.Add("b", false, "/srv/www", uint8(2), "var_t", "udp", uint16(1), uint16(0), "/a", "/b", false)
	f.Fuzz(func(t *testing.T, boolName string, value bool, expr string, ft uint8, typ, proto string, low, span uint16, alias, equal string, mls bool) {
		// Only what a configuration can hold: config and Validate refuse the rest.
		if !ident(boolName) || !ident(typ) || strings.ContainsAny(expr, " \t\n\r\v\f\"'#") || !strings.HasPrefix(expr, "/") ||
			strings.ContainsAny(alias+equal, " \t\n\r\v\f\"'#") || !strings.HasPrefix(alias, "/") || !strings.HasPrefix(equal, "/") || low == 0 {
			return
		}
		hi := int(low) + int(span)
		if hi > 65535 {
			return
		}
		protos := config.Protocols
		proto = protos[int(len(proto))%len(protos)]
		fileType := config.FileTypes[int(ft)%len(config.FileTypes)]
		want := &localRecords{
			Booleans:  map[string]bool{boolName: value},
			Ports:     map[portKey]string{{proto, int(low), hi}: typ},
			FContexts: map[fcKey]string{{expr, fileType}: typ, {alias, "equal"}: equal},
		}
		got := newLocalRecords()
		for _, step := range []struct {
			name  string
			data  []byte
			parse func([]byte) error
		}{
			{booleansLocal, formatBooleansLocal(want.Booleans), func(d []byte) error { return parseBooleansLocal(d, got.Booleans) }},
			{portsLocal, formatPortsLocal(want.Ports, mls), func(d []byte) error { return parsePortsLocal(d, got.Ports) }},
			{fcLocal, formatFContextsLocal(want.FContexts, mls), func(d []byte) error { return parseFContextsLocal(d, got.FContexts) }},
			{"file_contexts.subs", formatSubs(want.FContexts), func(d []byte) error { return parseSubs(d, got.FContexts) }},
		} {
			if err := step.parse(step.data); err != nil {
				t.Fatalf("%s written by seconf does not parse: %v\n%s", step.name, err, step.data)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("records changed on the way through the files (-want +got):\n%s", d)
		}
	})
}

func ident(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
