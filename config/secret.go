package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// KindSecret is the block kind of a container secret.
const KindSecret = "secret"

// MaxSecretSize is podman's limit on a secret's data.
const MaxSecretSize = 512000

// Secret is a `secret "NAME"` block: a value (usually from a sensitive
// variable) given to containers as a podman secret named NAME, or for
// docker as a 0600 file mounted read-only. Containers use it through
// quadlet's Secret key: secret = [secret.NAME.name].
type Secret struct {
	Block
	Value  []byte
	Engine string // podman or docker
}

var secretSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "value"}, {Name: "engine"}, {Name: "depends_on"},
}}

func (l *loader) decodeSecret(b *hcl.Block, ctx *hcl.EvalContext) *Secret {
	blk, a, _ := l.content(b, secretSchema, ctx, KindSecret)
	if blk == nil {
		return nil
	}
	a.require("value")
	s := &Secret{Engine: a.str("engine", "podman")}
	if _, ok := a.attrs["engine"]; ok {
		a.oneOf("engine", s.Engine, "podman", "docker")
	}
	if v, _, ok := a.secretString("value"); ok {
		s.Value = []byte(v)
		if n := len(s.Value); n == 0 || n > MaxSecretSize {
			rng := a.blk.AttrRange("value")
			// The size only: the value itself is never printed.
			l.errorf(&rng, "Invalid secret value", "A secret holds 1 to %d bytes (podman's limit); this one holds %d.", MaxSecretSize, n)
		}
	}
	s.Block = *a.blk
	return s
}

// decodeSecrets decodes the secret blocks and makes secret.NAME.name
// available to the containers decoded after them.
func (l *loader) decodeSecrets(blocks []*hcl.Block, ctx *hcl.EvalContext) {
	secrets := map[string]cty.Value{}
	for _, b := range blocks {
		if s := l.decodeSecret(b, ctx); s != nil {
			l.cfg.Secrets = append(l.cfg.Secrets, s)
			secrets[s.Name] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(s.Name)})
		}
	}
	ctx.Variables[KindSecret] = objectOrEmpty(secrets)
}
