package containerstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"seconf/host"
)

// Image is one image in a store.
type Image struct {
	ID      string
	Digests []string
	Names   []string
}

// Index is the images of one engine's store, as read from disk.
type Index struct {
	// Known is false when the store's index could not be found or read:
	// nothing can be said to be missing then.
	Known  bool
	images []Image
}

// Find returns the image the reference names: by name (a digest reference
// also by digest), a short name also under any registry (podman resolves
// one through its search registries).
func (ix *Index) Find(r Ref) (Image, bool) {
	names := r.Names()
	for _, im := range ix.images {
		for _, n := range im.Names {
			for _, want := range names {
				if n == want {
					return im, true
				}
			}
			if r.Domain == "" && r.Digest == "" && shortMatch(n, r) {
				return im, true
			}
		}
		if r.Digest != "" {
			for _, d := range im.Digests {
				if d == r.Digest && hasRepo(im.Names, r.Repo()) {
					return im, true
				}
			}
		}
	}
	return Image{}, false
}

// ByID returns the image with the given ID.
func (ix *Index) ByID(id string) (Image, bool) {
	id = strings.TrimPrefix(id, "sha256:")
	for _, im := range ix.images {
		if strings.TrimPrefix(im.ID, "sha256:") == id && id != "" {
			return im, true
		}
	}
	return Image{}, false
}

func shortMatch(name string, r Ref) bool {
	tag := r.Tag
	if tag == "" {
		tag = "latest"
	}
	_, p, ok := strings.Cut(name, "/")
	if !ok {
		return false
	}
	return p == r.Path+":"+tag || p == "library/"+r.Path+":"+tag
}

func hasRepo(names []string, repo string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, repo+"@") || strings.HasPrefix(n, repo+":") {
			return true
		}
	}
	return false
}

// tomlString reads KEY = "VALUE" under [storage] from a storage.conf: the
// two keys seconf needs do not warrant a TOML parser.
func tomlString(data []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	section := ""
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "[") {
			section = strings.Trim(l, "[] ")
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok || section != "storage" || strings.TrimSpace(k) != key {
			continue
		}
		v = strings.TrimSpace(v)
		if i := strings.Index(v, "#"); i >= 0 && strings.Count(v[:i], `"`)%2 == 0 {
			v = strings.TrimSpace(v[:i])
		}
		return strings.Trim(v, `"'`)
	}
	return ""
}

// PodmanGraphRoot is podman's storage directory on the host: storage.conf's
// graphroot (the root's /etc/containers, else /usr/share/containers), else
// the default.
func PodmanGraphRoot(h *host.Host) string {
	for _, p := range []string{host.PodmanStorageConf, host.PodmanStorageConfUsr} {
		if data, err := h.FS.ReadFile(p); err == nil {
			if g := tomlString(data, "graphroot"); g != "" && path.IsAbs(g) {
				return path.Clean(g)
			}
			break // the first file found is the one podman reads
		}
	}
	return host.PodmanGraphRoot
}

// PodmanImages reads podman's image index.
func PodmanImages(h *host.Host) (*Index, error) {
	root := PodmanGraphRoot(h)
	ents, err := h.FS.ReadDir(root)
	if err != nil {
		return &Index{}, nil
	}
	ix := &Index{}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasSuffix(e.Name(), "-images") {
			continue
		}
		data, err := h.FS.ReadFile(path.Join(root, e.Name(), "images.json"))
		if errors.Is(err, fs.ErrNotExist) {
			// A driver's directory before its first image.
			ix.Known = true
			continue
		}
		if err != nil {
			return &Index{}, nil
		}
		var imgs []struct {
			ID      string   `json:"id"`
			Digest  string   `json:"digest"`
			Digests []string `json:"digests"`
			Names   []string `json:"names"`
		}
		if err := json.Unmarshal(data, &imgs); err != nil {
			return &Index{}, fmt.Errorf("%s: %w", path.Join(root, e.Name(), "images.json"), err)
		}
		ix.Known = true
		for _, im := range imgs {
			ds := im.Digests
			if im.Digest != "" {
				ds = append(ds, im.Digest)
			}
			ix.images = append(ix.images, Image{ID: im.ID, Digests: ds, Names: im.Names})
		}
	}
	if !ix.Known {
		// No driver directory at all: podman has never stored an image.
		if _, err := h.FS.ReadDir(root); err == nil {
			ix.Known = true
		}
	}
	return ix, nil
}

// DockerDataRoot is docker's data directory: daemon.json's data-root, else
// the default.
func DockerDataRoot(h *host.Host) string {
	if data, err := h.FS.ReadFile(host.DockerDaemonConfig); err == nil {
		var cfg struct {
			DataRoot string `json:"data-root"`
		}
		if json.Unmarshal(data, &cfg) == nil && path.IsAbs(cfg.DataRoot) {
			return path.Clean(cfg.DataRoot)
		}
	}
	return host.DockerDataRoot
}

// DockerImages reads docker's image index (the classic image store; with
// the containerd image store there is none, and the index is unknown).
func DockerImages(h *host.Host) (*Index, error) {
	dir := path.Join(DockerDataRoot(h), "image")
	ents, err := h.FS.ReadDir(dir)
	if err != nil {
		return &Index{}, nil
	}
	ix := &Index{}
	byID := map[string]*Image{}
	for _, e := range ents {
		data, err := h.FS.ReadFile(path.Join(dir, e.Name(), "repositories.json"))
		if err != nil {
			continue
		}
		var repos struct {
			Repositories map[string]map[string]string
		}
		if err := json.Unmarshal(data, &repos); err != nil {
			return &Index{}, fmt.Errorf("%s: %w", path.Join(dir, e.Name(), "repositories.json"), err)
		}
		ix.Known = true
		for _, refs := range repos.Repositories {
			for ref, id := range refs {
				im := byID[id]
				if im == nil {
					im = &Image{ID: id}
					byID[id] = im
				}
				im.Names = append(im.Names, fullName(ref))
				if _, d, ok := strings.Cut(ref, "@"); ok {
					im.Digests = append(im.Digests, d)
				}
			}
		}
	}
	for _, im := range byID {
		ix.images = append(ix.images, *im)
	}
	return ix, nil
}

// fullName turns docker's familiar name back into the fully qualified one.
func fullName(ref string) string {
	r, err := ParseRef(ref)
	if err != nil {
		return ref
	}
	n := r.Repo()
	if r.Tag != "" {
		n += ":" + r.Tag
	}
	if r.Digest != "" {
		n += "@" + r.Digest
	}
	return n
}

// PodmanSecrets reads podman's secret index: name → ID. ok is false when
// the index cannot be read.
func PodmanSecrets(h *host.Host) (map[string]string, bool) {
	data, err := h.FS.ReadFile(path.Join(PodmanGraphRoot(h), "secrets", "secrets.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, true
	}
	if err != nil {
		return nil, false
	}
	var idx struct {
		NameToID map[string]string `json:"nameToID"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, false
	}
	if idx.NameToID == nil {
		idx.NameToID = map[string]string{}
	}
	return idx.NameToID, true
}
