package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"seconf/host"
)

// State is what seconf owns on a host, and how its last apply went. It is
// seconf's only memory between runs, and a claim, not a proof: providers
// check each record against the host before they remove or replace what it
// names.
//
// Each provider keeps its own section, a JSON value under its name at the
// top level of the file ("modules", "units", ...), which the engine stores
// without reading: a new kind of resource brings its section along.
type State struct {
	Version  int
	Last     *ApplySummary
	sections map[string]json.RawMessage
	dirty    bool // a section changed since the record was read
}

// ApplySummary records one apply for `seconf status` and for operators.
type ApplySummary struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Changed  []string  `json:"changed,omitempty"`
	Failed   string    `json:"failed,omitempty"`
}

// Section decodes the provider section name into v; a missing section
// leaves v as it is.
func (s *State) Section(name string, v any) error {
	raw, ok := s.sections[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("state record %s: section %q is damaged (%v); seconf will not guess what it owns: fix or remove it", host.StatePath, name, err)
	}
	return nil
}

// SetSection replaces the provider section name with v (nil or an empty
// map or slice removes it).
func (s *State) SetSection(name string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	old, had := s.sections[name]
	switch string(raw) {
	case "null", "{}", "[]":
		if had {
			delete(s.sections, name)
			s.dirty = true
		}
		return nil
	}
	if !had || !bytes.Equal(compact(old), raw) {
		s.dirty = true
	}
	s.sections[name] = raw
	return nil
}

func compact(raw []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// Empty reports whether the record holds nothing at all.
func (s *State) Empty() bool { return len(s.sections) == 0 && s.Last == nil }

const stateVersion = 1

// LoadState reads the state record; a missing one is empty.
func LoadState(h *host.Host) (*State, error) {
	st := NewState()
	data, err := h.FS.ReadFile(host.StatePath)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state record: %w", err)
	}
	damaged := func(err error) error {
		return fmt.Errorf("state record %s is damaged (%v); seconf will not guess what it owns: fix or remove it", host.StatePath, err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, damaged(err)
	}
	for k, v := range top {
		switch k {
		case "version":
			if err := json.Unmarshal(v, &st.Version); err != nil {
				return nil, damaged(err)
			}
		case "last_apply":
			if err := json.Unmarshal(v, &st.Last); err != nil {
				return nil, damaged(err)
			}
		default:
			if string(v) != "null" {
				st.sections[k] = v
			}
		}
	}
	if st.Version > stateVersion {
		return nil, fmt.Errorf("state record %s was written by a newer seconf (version %d); upgrade seconf on this host", host.StatePath, st.Version)
	}
	return st, nil
}

// MarshalJSON writes the version, the sections and the last apply at the
// top level, keys sorted, so that the file reads the same run after run.
func (s *State) MarshalJSON() ([]byte, error) {
	top := map[string]any{"version": s.Version}
	for k, v := range s.sections {
		top[k] = v
	}
	if s.Last != nil {
		top["last_apply"] = s.Last
	}
	return json.Marshal(top)
}

// Save writes the state record atomically.
func (s *State) Save(h *host.Host) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, data, "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	if err := h.FS.WriteFile(host.StatePath, b.Bytes(), 0o600); err != nil {
		return err
	}
	s.dirty = false
	return nil
}

// NewState is an empty state record, as on a host seconf never changed.
func NewState() *State {
	return &State{Version: stateVersion, sections: map[string]json.RawMessage{}}
}
