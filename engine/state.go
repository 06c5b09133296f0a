package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"seconf/host"
)

// State is what seconf owns on a host, and how its last apply went. It is
// the only memory seconf has between runs: a resource missing from it is
// never deleted.
type State struct {
	Version int                    `json:"version"`
	Modules map[string]ModuleState `json:"modules"`
	Units   map[string]UnitState   `json:"units"`
	Last    *ApplySummary          `json:"last_apply,omitempty"`
}

// ModuleState is an installed module seconf owns.
type ModuleState struct {
	Priority int    `json:"priority"`
	Checksum string `json:"checksum"`
	// InputHash keys the compile cache: the hash of the sources and of the
	// tool chain that turned them into Checksum.
	InputHash string `json:"input_hash,omitempty"`
	// Stored is the sha256 of the module's file in the store as it lies
	// there (compressed): equal, the module is the one seconf installed,
	// and the no-change path need not decompress it.
	Stored string `json:"stored,omitempty"`
	// Types are the SELinux types the module declares.
	Types []string `json:"types,omitempty"`
}

// UnitState is a unit file seconf wrote, by resource ID.
type UnitState struct {
	Files     []string `json:"files"`
	Unit      string   `json:"unit"`
	Generated bool     `json:"generated,omitempty"`
}

// ApplySummary records one apply for `seconf status` and for operators.
type ApplySummary struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Changed  []string  `json:"changed,omitempty"`
	Failed   string    `json:"failed,omitempty"`
}

// LoadState reads the state record; a missing one is empty.
func LoadState(h *host.Host) (*State, error) {
	st := &State{Version: 1, Modules: map[string]ModuleState{}, Units: map[string]UnitState{}}
	data, err := h.FS.ReadFile(host.StatePath)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state record: %w", err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("state record %s is damaged (%v); seconf will not guess what it owns: fix or remove it", host.StatePath, err)
	}
	if st.Modules == nil {
		st.Modules = map[string]ModuleState{}
	}
	if st.Units == nil {
		st.Units = map[string]UnitState{}
	}
	return st, nil
}

// Save writes the state record atomically.
func (s *State) Save(h *host.Host) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return h.FS.WriteFile(host.StatePath, append(data, '\n'), 0o600)
}
