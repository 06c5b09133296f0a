package confine

import (
	"fmt"
	"strconv"
	"strings"
)

// Port is the container side of a publish entry: the ports the container
// itself listens on, which are what SELinux checks when it binds them.
type Port struct {
	Spec      string // the publish entry as written
	Proto     string // tcp, udp or sctp
	Low, High int
}

// ParsePublish reads a publish entry as podman and docker take it:
// [[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL], ports or ranges (a-b), an
// IPv6 address in brackets, podman's comma-separated protocols. One Port
// per protocol.
func ParsePublish(spec string) ([]Port, error) {
	rest, protos := spec, "tcp"
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		rest, protos = rest[:i], rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 || end+1 >= len(rest) || rest[end+1] != ':' {
			return nil, fmt.Errorf("publish %q: an IPv6 address in brackets must be followed by :HOST_PORT:CONTAINER_PORT", spec)
		}
		rest = rest[end+2:]
		if strings.Count(rest, ":") != 1 {
			return nil, fmt.Errorf("publish %q: want [IP]:HOST_PORT:CONTAINER_PORT", spec)
		}
	}
	parts := strings.Split(rest, ":")
	if len(parts) > 3 {
		return nil, fmt.Errorf("publish %q: want [[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]", spec)
	}
	lo, hi, err := portRange(parts[len(parts)-1])
	if err != nil {
		return nil, fmt.Errorf("publish %q: container port: %v", spec, err)
	}
	if len(parts) >= 2 && parts[len(parts)-2] != "" {
		hlo, hhi, err := portRange(parts[len(parts)-2])
		if err != nil {
			return nil, fmt.Errorf("publish %q: host port: %v", spec, err)
		}
		if hhi-hlo != hi-lo && hhi != hlo && hi != lo {
			return nil, fmt.Errorf("publish %q: the host and container port ranges differ in length", spec)
		}
	}
	var out []Port
	seen := map[string]bool{}
	for _, p := range strings.Split(protos, ",") {
		switch p {
		case "tcp", "udp", "sctp":
		default:
			return nil, fmt.Errorf("publish %q: protocol %q: want tcp, udp or sctp", spec, p)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, Port{Spec: spec, Proto: p, Low: lo, High: hi})
		}
	}
	return out, nil
}

func portRange(s string) (int, int, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := portNumber(a)
	if err != nil {
		return 0, 0, err
	}
	hi := lo
	if isRange {
		if hi, err = portNumber(b); err != nil {
			return 0, 0, err
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("range %q runs backwards", s)
		}
	}
	return lo, hi, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || s[0] == '+' || s[0] == '0' {
		return 0, fmt.Errorf("%q is not a port number (1-65535)", s)
	}
	return n, nil
}

// String is the container side as a person reads it: tcp 80, udp 5000-5010.
func (p Port) String() string {
	if p.Low == p.High {
		return fmt.Sprintf("%s %d", p.Proto, p.Low)
	}
	return fmt.Sprintf("%s %d-%d", p.Proto, p.Low, p.High)
}
