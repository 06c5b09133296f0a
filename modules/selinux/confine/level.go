package confine

import (
	"fmt"
	"strconv"
	"strings"
)

// level is an MLS level: a sensitivity and a set of categories.
type level struct {
	sens int
	cats map[int]bool
}

// parseLevel reads a level as contexts write it: s0, s0:c1,c3.c7. Category
// ranges are bounded so that a hostile range cannot allocate much.
func parseLevel(s string) (level, error) {
	sens, cats, _ := strings.Cut(s, ":")
	if len(sens) < 2 || sens[0] != 's' {
		return level{}, fmt.Errorf("level %q: want sN[:cats]", s)
	}
	n, err := strconv.Atoi(sens[1:])
	if err != nil || n < 0 || n > 1023 {
		return level{}, fmt.Errorf("level %q: bad sensitivity", s)
	}
	l := level{sens: n, cats: map[int]bool{}}
	if cats == "" {
		return l, nil
	}
	for _, part := range strings.Split(cats, ",") {
		lo, hi, isRange := strings.Cut(part, ".")
		a, err1 := category(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = category(hi)
		}
		if err1 != nil || err2 != nil || b < a {
			return level{}, fmt.Errorf("level %q: bad categories %q", s, part)
		}
		for c := a; c <= b; c++ {
			l.cats[c] = true
		}
	}
	return l, nil
}

func category(s string) (int, error) {
	if len(s) < 2 || s[0] != 'c' {
		return 0, fmt.Errorf("category %q", s)
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 0 || n > 1023 {
		return 0, fmt.Errorf("category %q", s)
	}
	return n, nil
}

// high is the high level of a range (s0-s0:c0.c1023 → s0:c0.c1023): the
// one MCS constraints compare a file against.
func high(rng string) string {
	if _, h, ok := strings.Cut(rng, "-"); ok {
		return h
	}
	return rng
}

// dominates reports whether a dominates b: at least b's sensitivity and
// every category of b.
func (a level) dominates(b level) bool {
	if a.sens < b.sens {
		return false
	}
	for c := range b.cats {
		if !a.cats[c] {
			return false
		}
	}
	return true
}

// reachable says whether a container at containerLevel (its selinux_level,
// or "" for the level the engine picks: s0 and two random categories) may
// read and write a file whose context has range fileRange, under the MCS
// rule that a constrained domain's high level must dominate the object's.
// It returns why not when it may not.
func reachable(containerLevel, fileRange string) (bool, string) {
	if fileRange == "" {
		return true, "" // a policy without MLS
	}
	f, err := parseLevel(high(fileRange))
	if err != nil {
		return false, err.Error()
	}
	if containerLevel == "" {
		if f.sens == 0 && len(f.cats) == 0 {
			return true, ""
		}
		return false, fmt.Sprintf("its level %s has categories (or a sensitivity) that the level the engine picks for the container (s0 and two random categories) does not dominate", high(fileRange))
	}
	c, err := parseLevel(high(containerLevel))
	if err != nil {
		return false, fmt.Sprintf("selinux_level: %v", err)
	}
	if c.dominates(f) {
		return true, ""
	}
	return false, fmt.Sprintf("its level %s is not dominated by the container's selinux_level %s", high(fileRange), containerLevel)
}
