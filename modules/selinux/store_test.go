package selinux

import (
	"context"
	"strings"
	"testing"

	"seconf/host"
	"seconf/internal/testenv"
)

// TestStoreChecksumsMatchSemodule proves the shortcut the no-change path
// takes (disabled .pp modules included, which the store keeps without CIL):
// seconf reads its modules' checksums from the store instead of
// running semodule -lfull -m, so both must agree, for every module there.
func TestStoreChecksumsMatchSemodule(t *testing.T) {
	root := testenv.PolicyRoot(t)
	want := testenv.Checksums(t, root)
	if len(want) < 100 {
		t.Fatalf("semodule listed only %d modules", len(want))
	}
	st := openStore(host.FS{Root: root})
	for key, sum := range want {
		prio, name, _ := strings.Cut(key, " ")
		ins, err := st.lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, in := range ins {
			if itoa(in.Priority) != prio {
				continue
			}
			found = true
			cil, err := st.cil(context.Background(), host.ExecRunner{}, in)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if got := checksum(cil); got != sum {
				t.Errorf("%s: store read gives %s, semodule says %s", key, got, sum)
			}
		}
		if !found {
			t.Errorf("%s: listed by semodule, not found in the store", key)
		}
	}
}

func itoa(i int) string {
	s := []byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)}
	return strings.TrimLeft(string(s), "0")
}
