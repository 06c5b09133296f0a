package filecontexts

import (
	"os"
	"testing"
)

// TestWithLocal: the rules WithLocal adds answer as the same lines written
// into the policy's .local and .subs do (the lines semanage writes, which
// TestLocalAndEquivalencesAgreeWithMatchpathcon holds to libselinux), after
// any the policy has already, and they change the answers.
func TestWithLocal(t *testing.T) {
	fc := machinePolicy(t)
	if err := os.WriteFile(fc+".local", []byte("/srv/old(/.*)?\tsystem_u:object_r:tmp_t:s0"), 0o644); err != nil {
		t.Fatal(err)
	}
	rules := []Local{
		{Path: "/srv/cache(/.*)?", Type: "tmp_t"},
		{Path: "/var/log/app\\.log", Field: Fields["file"], Type: "etc_t"},
		{Path: "/data", Equal: "/var/lib"},
	}
	planned, err := Open(WithLocal(os.ReadFile, fc, rules, true), fc)
	if err != nil {
		t.Fatal(err)
	}
	before := openDir(t, fc)
	written := "/srv/old(/.*)?\tsystem_u:object_r:tmp_t:s0\n/srv/cache(/.*)?\tsystem_u:object_r:tmp_t:s0\n/var/log/app\\.log\t--\tsystem_u:object_r:etc_t:s0\n"
	if err := os.WriteFile(fc+".local", []byte(written), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fc+".subs", []byte("/data /var/lib\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	after := openDir(t, fc)
	changed := 0
	for _, q := range []struct {
		path string
		ft   FileType
	}{{"/srv/cache", Directory}, {"/srv/cache/x", Regular}, {"/srv/old/y", Regular}, {"/var/log/app.log", Regular}, {"/var/log/app.log", Directory}, {"/data/mysql", Directory}, {"/etc/passwd", Regular}} {
		got, gok := planned.Lookup(q.path, q.ft)
		want, wok := after.Lookup(q.path, q.ft)
		if got != want || gok != wok {
			t.Errorf("%s (%v): WithLocal gives %v %v, the written lines %v %v", q.path, q.ft, got, gok, want, wok)
		}
		if b, _ := before.Lookup(q.path, q.ft); b != want {
			changed++
		}
	}
	if changed < 4 {
		t.Errorf("only %d answers changed: the rules were not asked about", changed)
	}
	if same := WithLocal(os.ReadFile, fc, nil, true); same == nil {
		t.Error("no rules gives no reader")
	}
}
