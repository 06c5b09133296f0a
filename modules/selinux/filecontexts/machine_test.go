package filecontexts

import (
	"hash/fnv"
	"math/rand/v2"
	"os"
	"regexp/syntax"
	"sort"
	"strings"
	"testing"
)

// The directories whose every file and directory is looked up, as the
// package and as libselinux, with this machine's policy.
var machineDirs = []string{"/etc", "/usr", "/var", "/run", "/home", "/srv", "/opt", "/root", "/tmp"}

// TestMachinePathsAgreeWithMatchpathcon looks up the files and directories
// of this machine with its own file contexts, as regular files, as
// directories and as what they are. libselinux takes a few hundred
// microseconds a lookup, so by default a fixed sample of at most 10,000
// paths is compared; SECONF_FCONTEXTS_ALL=1 compares every one.
func TestMachinePathsAgreeWithMatchpathcon(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	fc := machinePolicy(t)
	s := openDir(t, fc)
	paths := walk(machineDirs...)
	if len(paths) < 1000 {
		t.Fatalf("only %d paths under %v", len(paths), machineDirs)
	}
	if os.Getenv("SECONF_FCONTEXTS_ALL") == "" {
		paths = sample(paths, 10000)
	}
	t.Logf("%d paths", len(paths))
	compareWithTool(t, s, fc, Regular, paths)
	compareWithTool(t, s, fc, Directory, paths)
	// As what they are: grouped by type so that a file that changes while
	// the test runs (other programs use /tmp) cannot make it flaky.
	byType := map[FileType][]string{}
	for _, p := range paths {
		if st, err := os.Lstat(p); err == nil {
			ft := FileTypeOf(st.Mode())
			byType[ft] = append(byType[ft], p)
		}
	}
	for ft, ps := range byType {
		if ft != Regular && ft != Directory && ft != Any {
			compareWithTool(t, s, fc, ft, ps)
		}
	}
}

// sample keeps n of paths, chosen by a hash of each so that the choice is
// the same from run to run and spread over every directory.
func sample(paths []string, n int) []string {
	if len(paths) <= n {
		return paths
	}
	type h struct {
		sum uint64
		p   string
	}
	hs := make([]h, len(paths))
	for i, p := range paths {
		f := fnv.New64a()
		f.Write([]byte(p))
		hs[i] = h{f.Sum64(), p}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].sum < hs[j].sum })
	out := make([]string, n)
	for i := range out {
		out[i] = hs[i].p
	}
	sort.Strings(out)
	return out
}

// TestSpecPathsAgreeWithMatchpathcon makes, for every spec of this
// machine's policy, paths that its expression matches (and near misses:
// its prefix, its prefix plus a component, its stem plus one), and compares
// the answers for every file type and for type 0.
func TestSpecPathsAgreeWithMatchpathcon(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	fc := machinePolicy(t)
	s := openDir(t, fc)
	paths := specPaths(t, s)
	t.Logf("%d paths from %d specs", len(paths), len(s.Specs()))
	// Type 0: matchpathcon takes the mode of a path that exists.
	var absent []string
	for _, p := range paths {
		if _, err := os.Lstat(strings.TrimSuffix(p, "/")); err != nil {
			absent = append(absent, p)
		}
	}
	for _, ft := range []FileType{Any, Regular, Directory, Symlink, Socket, NamedPipe, BlockDevice, CharDevice} {
		ps := paths
		if ft == Any {
			ps = absent
		}
		compareWithTool(t, s, fc, ft, ps)
	}
}

// specPaths generates paths from every spec's expression.
func specPaths(t testing.TB, s *Set) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		// Arguments cannot hold a NUL; matchpathcon would read one
		// starting with - as an option.
		if p == "" || strings.ContainsRune(p, 0) || p[0] == '-' || seen[p] {
			return
		}
		seen[p] = true
		out = append(out, p)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, sp := range s.Specs() {
		re, err := syntax.Parse(sp.pat.goExpr(), syntax.Perl)
		if err != nil {
			t.Fatalf("%s: %v", sp.Where(), err)
		}
		re = re.Simplify()
		for i := 0; i < 3; i++ {
			var b strings.Builder
			generate(&b, re, rnd, i)
			add(b.String())
		}
		add(sp.pat.prefix)
		add(sp.pat.prefix + "x")
		add(sp.pat.prefix + "/x")
		add(sp.pat.stem + "/x")
	}
	sort.Strings(out)
	return out
}

// generate writes a string the expression matches: variant 0 takes the
// fewest repetitions, the others more and random choices.
func generate(b *strings.Builder, re *syntax.Regexp, rnd *rand.Rand, variant int) {
	reps := func(min, max int) int {
		if variant == 0 {
			return min
		}
		if max < 0 {
			max = min + 3
		}
		return min + rnd.IntN(max-min+1)
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		// Prefer letters and common path characters from the class.
		var cands []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1] && r < 0x80 && len(cands) < 64; r++ {
				if r > ' ' && r != 0x7f {
					cands = append(cands, r)
				}
			}
		}
		if len(cands) == 0 && len(re.Rune) > 0 {
			cands = append(cands, re.Rune[0])
		}
		if len(cands) > 0 {
			b.WriteRune(cands[rnd.IntN(len(cands))])
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte("abc/._-"[rnd.IntN(7)])
	case syntax.OpStar:
		for n := reps(0, -1); n > 0; n-- {
			generate(b, re.Sub[0], rnd, variant)
		}
	case syntax.OpPlus:
		for n := reps(1, -1); n > 0; n-- {
			generate(b, re.Sub[0], rnd, variant)
		}
	case syntax.OpQuest:
		for n := reps(0, 1); n > 0; n-- {
			generate(b, re.Sub[0], rnd, variant)
		}
	case syntax.OpRepeat:
		for n := reps(re.Min, re.Max); n > 0; n-- {
			generate(b, re.Sub[0], rnd, variant)
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			generate(b, sub, rnd, variant)
		}
	case syntax.OpAlternate:
		generate(b, re.Sub[rnd.IntN(len(re.Sub))], rnd, variant)
	case syntax.OpCapture:
		generate(b, re.Sub[0], rnd, variant)
	}
}

// TestCompiledPolicyAgrees: libselinux on this machine reads the compiled
// file_contexts.bin; this package reads the text it was compiled from. The
// two give the same answers.
func TestCompiledPolicyAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	real := PolicyFile(machinePolicyType(t))
	if _, err := os.Stat(real + ".bin"); err != nil {
		t.Skipf("no compiled file contexts: %v", err)
	}
	s := openDir(t, real)
	paths := sample(walk(machineDirs...), 5000)
	compareWithTool(t, s, real, Regular, paths)
	compareWithTool(t, s, real, Directory, paths)
}
