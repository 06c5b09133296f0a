package selinux

import "testing"

func TestFreePriority(t *testing.T) {
	tests := []struct {
		name  string
		taken []int
		above int
		want  int
	}{
		{"next above", []int{100}, 100, 101},
		{"skips taken", []int{100, 101, 102}, 100, 103},
		{"top full: highest free below", []int{998, 999}, 999, 997},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			taken := map[int]bool{}
			for _, p := range tc.taken {
				taken[p] = true
			}
			if got := freePriority(taken, tc.above); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}
