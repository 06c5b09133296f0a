package engine

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayering holds the house rules on imports: only host runs
// commands or talks D-Bus, and config knows nothing of the engine.
func TestLayering(t *testing.T) {
	hostOnly := []string{"os/exec", "github.com/godbus/dbus", "github.com/coreos/go-systemd/v22/dbus"}
	files := 0
	err := filepath.Walk("..", func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() && (info.Name() == "testdata" || strings.HasPrefix(info.Name(), ".")) && p != ".." {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		dir := filepath.ToSlash(filepath.Dir(p))
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, h := range hostOnly {
				if strings.HasPrefix(path, h) && dir != "../host" {
					t.Errorf("%s imports %s: only host may", p, path)
				}
			}
			if strings.HasPrefix(dir, "../config") && strings.HasPrefix(path, "seconf/engine") {
				t.Errorf("%s imports %s: config knows no engine", p, path)
			}
			if (dir == "../engine" || strings.HasPrefix(dir, "../config") || dir == "../host") && strings.HasPrefix(path, "seconf/modules") {
				t.Errorf("%s imports %s: the core knows no provider", p, path)
			}
			for _, u := range []string{"../modules/units", "../modules/container", "../modules/mount", "../modules/timer"} {
				if dir == u && strings.HasPrefix(path, "seconf/modules/selinux") {
					t.Errorf("%s imports %s: units know nothing of SELinux policy", p, path)
				}
			}
			if strings.HasPrefix(path, "seconf/cmd") {
				t.Errorf("%s imports %s: nothing imports the CLI", p, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("read only %d files", files)
	}
}
