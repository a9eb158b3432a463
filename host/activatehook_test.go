package host_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/storage/memstore"
)

// hookCounter is a guest whose every message is answered with how many
// activate and deactivate requests its instance has had (a CBOR integer
// under 24), and which exports wactor_activate_hook as export says (the
// whole export, or nothing).
func hookCounter(export string) string {
	return `(module
  (memory (export "memory") 1)
  (global $hooks (mut i32) (i32.const 0))
  (func (export "wactor_abi_version") (result i32) (i32.const 1))
  (func (export "wactor_alloc") (param $n i32) (result i32) (i32.const 1024))
  ` + export + `
  (func (export "wactor_handle") (param $p i32) (param $n i32) (result i64)
    ;; the kind is the request's third byte: 0 for a message
    (if (i32.load8_u offset=2 (local.get $p))
      (then
        (global.set $hooks (i32.add (global.get $hooks) (i32.const 1)))
        ;; {}: an empty success
        (i32.store8 (i32.const 512) (i32.const 0xa0))
        (return (i64.or (i64.shl (i64.const 512) (i64.const 32)) (i64.const 1)))))
    ;; {1: h'XX'}, XX the count as a CBOR integer
    (i32.store (i32.const 512) (i32.const 0x004101a1))
    (i32.store8 (i32.const 515) (global.get $hooks))
    (i64.or (i64.shl (i64.const 512) (i64.const 32)) (i64.const 4))))
`
}

// TestActivateHookSkipped: an instance started from a snapshot runs its
// activate hook unless the guest's wactor_activate_hook, asked when the
// snapshot was taken, answered 0; without snapshots, or without the
// export, or with any other answer, the hook runs as before; an export of
// the wrong signature is refused at deploy, saying so.
func TestActivateHookSkipped(t *testing.T) {
	answer := func(n string) string {
		return `(func (export "wactor_activate_hook") (result i32) (i32.const ` + n + `))`
	}
	for _, c := range []struct {
		name, export string
		noSnapshots  bool
		hooks        byte // activate requests the instance had before its first message
	}{
		{"none", answer("0"), false, 0},
		{"none, no snapshots", answer("0"), true, 1},
		{"has one", answer("1"), false, 1},
		{"any other answer", answer("7"), false, 1},
		{"no export", "", false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			h, err := host.New(ctx, host.Config{Store: memstore.New(), NoSnapshots: c.noSnapshots})
			require.NoError(t, err)
			defer h.Close(ctx)
			require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "g", Module: wat(t, hookCounter(c.export))}))
			for _, id := range []string{"a", "b"} {
				got, err := h.Ask(ctx, abi.Ref{Type: "g", ID: id}, "m", nil)
				require.NoError(t, err)
				assert.Equal(t, []byte{c.hooks}, got, "activate requests before the first message of %s", id)
			}
		})
	}
	t.Run("wrong signature", func(t *testing.T) {
		ctx := context.Background()
		h, err := host.New(ctx, host.Config{Store: memstore.New()})
		require.NoError(t, err)
		defer h.Close(ctx)
		err = h.Deploy(ctx, host.TypeConfig{Name: "g", Module: wat(t, hookCounter(`(func (export "wactor_activate_hook") (param i32) (result i32) (i32.const 0))`))})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "export wactor_activate_hook has signature (i32) -> (i32), want () -> (i32)")
	})
}
