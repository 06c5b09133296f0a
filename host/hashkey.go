package host

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
)

// HashKey returns the host's key for the keyed hashes that stand in the
// state record for sensitive values: a hash an attacker who reads the
// record cannot test guesses against. With create, a missing key is made
// (32 random bytes, mode 0600); without, a missing key is nil: nothing was
// hashed with it yet.
func (h *Host) HashKey(create bool) ([]byte, error) {
	if h.hashKey != nil {
		return h.hashKey, nil
	}
	key, err := h.FS.ReadFile(HashKeyPath)
	switch {
	case err == nil && len(key) == 32:
		h.hashKey = key
		return key, nil
	case err == nil:
		return nil, fmt.Errorf("%s holds %d bytes, not a key of 32: remove it (seconf then treats every secret as changed and writes it again)", HashKeyPath, len(key))
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	case !create:
		return nil, nil
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := h.FS.WriteFile(HashKeyPath, key, 0o600); err != nil {
		return nil, err
	}
	h.hashKey = key
	return key, nil
}

// KeyedSum is the HMAC-SHA256 of data under key, as the state record keeps
// it; "" without a key.
func KeyedSum(key, data []byte) string {
	if key == nil {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}
