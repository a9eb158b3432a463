package host_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/abi/ruletest"
	"github.com/wactor/wactor/storage/memstore"
)

// TestRulesTable runs the table of package ruletest against the real host
// and the rules actor compiled to WebAssembly; examples/wasm/rules runs
// the same table against the Go SDK's native kit, wactortest. A rule the
// two apply differently fails one of them.
func TestRulesTable(t *testing.T) {
	h := newHost(t, memstore.New(), goType(t, "rules"))
	for i, sc := range ruletest.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			ref := abi.Ref{Type: "rules", ID: "s" + strconv.Itoa(i)}
			for j, turn := range sc.Turns {
				_, err := h.Ask(context.Background(), ref, "run", turn.Payload())
				require.NoError(t, turn.Check(err), "turn %d", j)
			}
		})
	}
}
