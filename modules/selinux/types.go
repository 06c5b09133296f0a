package selinux

func trimT(t string) string {
	if len(t) > 2 && t[len(t)-2:] == "_t" {
		return t[:len(t)-2]
	}
	return t
}
