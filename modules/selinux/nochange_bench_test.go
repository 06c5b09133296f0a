package selinux

import (
	"context"
	"testing"

	"seconf/config"
	"seconf/engine"
	"seconf/host"
	"seconf/internal/testenv"
)

// BenchmarkNoChangeParts times, one at a time, the steps the selinux
// provider takes when nothing changed (the timer's run), on the bundled
// example, and, for comparison, the steps it takes only when a module or its
// record changed (if-changed/...). The example's modules are installed once
// in a private store (one policy commit, outside the timed loops). bench/run
// puts the results in bench/RESULTS.md, beside the whole run.
func BenchmarkNoChangeParts(b *testing.B) {
	ctx := context.Background()
	root := testenv.PolicyRoot(b)
	paths := []string{"../../examples/container-logger"}
	vars := map[string]string{}
	if !testenv.Modules(b, root)["container"] {
		// Debian 12: refpolicy's container module joins the configuration.
		vars["refpolicy_services"] = testenv.RefpolicyServices(b)
		paths = append([]string{"../../examples/debian12-container-policy"}, paths...)
	}
	cfg, _, diags := config.Load(paths, config.Options{Vars: vars})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	h, err := host.New(root, host.Offline, nil)
	if err != nil {
		b.Fatal(err)
	}
	state := engine.NewState()
	newEnv := func() *engine.Env {
		return &engine.Env{Host: h, Config: cfg, State: state}
	}
	p := New()
	defer p.Close()
	env := newEnv()
	changes, diags := p.Plan(ctx, env)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	if err := p.Apply(ctx, env, changes); err != nil {
		b.Fatal(err)
	}

	// The whole provider, as apply runs it: a new provider each time, so the
	// tool chain fingerprint is taken each time, as in a new process.
	b.Run("provider-plan", func(b *testing.B) {
		for b.Loop() {
			p := New()
			cs, diags := p.Plan(ctx, newEnv())
			p.Close()
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			for _, c := range cs {
				if c.Action != engine.NoOp {
					b.Fatalf("%s: %s (%s)", c.ID, c.Action, c.Reason)
				}
			}
		}
	})
	b.Run("toolchain-fingerprint", func(b *testing.B) {
		for b.Loop() {
			toolchainFingerprint()
		}
	})
	b.Run("store-open", func(b *testing.B) {
		for b.Loop() {
			openStore(h.FS)
		}
	})
	st := openStore(h.FS)
	for _, m := range cfg.Modules {
		ins, err := st.lookup(m.Name)
		if err != nil || len(ins) == 0 {
			b.Fatalf("%s not in the store: %v", m.Name, err)
		}
		raw, err := st.raw(ins[0])
		if err != nil {
			b.Fatal(err)
		}
		cil, err := decompress(raw)
		if err != nil {
			b.Fatal(err)
		}
		size := func(b *testing.B, data []byte) { b.ReportMetric(float64(len(data))/1024, "KiB") }
		// On the no-change path: find the module, read its stored file,
		// hash it, hash the sources.
		b.Run("store-lookup/"+m.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := st.lookup(m.Name); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("store-read/"+m.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := st.raw(ins[0]); err != nil {
					b.Fatal(err)
				}
			}
			size(b, raw)
		})
		// What the no-change path does: hash the stored cil and hll files.
		b.Run("store-fingerprint/"+m.Name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := st.fingerprint(ins[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("sha256-stored/"+m.Name, func(b *testing.B) {
			for b.Loop() {
				checksum(raw)
			}
			size(b, raw)
		})
		b.Run("input-hash/"+m.Name, func(b *testing.B) {
			q := New()
			q.toolchain = p.toolchain // fingerprint taken once, as in a run
			for b.Loop() {
				if _, err := q.inputHash(m); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Only when the module or its record changed: the installed CIL
		// decompressed, and the types it declares found.
		b.Run("if-changed/bzip2-decompress/"+m.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := decompress(raw); err != nil {
					b.Fatal(err)
				}
			}
			size(b, cil)
		})
		b.Run("if-changed/declared-types/"+m.Name, func(b *testing.B) {
			for b.Loop() {
				declaredTypes(cil)
			}
			size(b, cil)
		})
	}
}
