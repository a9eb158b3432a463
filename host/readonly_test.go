package host_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
)

func TestReadOnlyConfig(t *testing.T) {
	ctx := context.Background()
	h := memHost(t)
	err := h.Deploy(ctx, host.TypeConfig{Name: "l", Module: testwasm.Go(t, "ledger"), ReadOnly: []string{"balance", "balance"}})
	require.ErrorContains(t, err, `read_only[1]: method "balance" is listed twice`)
	err = h.Deploy(ctx, host.TypeConfig{Name: "l", Module: testwasm.Go(t, "ledger"), ReadOnly: []string{""}})
	require.ErrorContains(t, err, "read_only[0]: read-only method has no method")
}

// A read-only balance answers while a deposit waits in a slow ask, with
// the committed balance, not the deposit's own write; the deposit then
// fails and leaves the balance as it was.
func TestReadOnlyAnswersDuringSlowAsk(t *testing.T) {
	ctx := context.Background()
	h := memHost(t)
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "ledger", Module: testwasm.Go(t, "ledger"),
		ReadOnly: []string{"balance"}, AskTimeout: 800 * time.Millisecond}))
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "hostile", Module: testwasm.Go(t, "hostile"), TurnTimeout: 2 * time.Second}))
	require.NoError(t, h.Start(ctx))

	ledger := abi.Ref{Type: "ledger", ID: "alice"}
	balance := func() int64 {
		t.Helper()
		reply, err := h.Ask(ctx, ledger, "balance", nil)
		require.NoError(t, err)
		var b struct {
			Balance int64 `cbor:"balance"`
		}
		require.NoError(t, cbor.Unmarshal(reply, &b))
		return b.Balance
	}
	deposit := func(m map[string]any) error {
		p, err := cbor.Marshal(m)
		require.NoError(t, err)
		_, err = h.Ask(ctx, ledger, "deposit", p)
		return err
	}
	require.NoError(t, deposit(map[string]any{"amount": 5}))
	require.EqualValues(t, 5, balance())

	slow := abi.Ref{Type: "hostile", ID: "slow-approver"}
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- deposit(map[string]any{"amount": 7, "approver": slow.String(), "method": "spin"}) }()
	require.Eventually(t, func() bool { return slices.Contains(h.Activations(), slow) }, 10*time.Second, time.Millisecond,
		"the deposit's ask never reached the approver")
	assert.EqualValues(t, 5, balance(), "balance sees the committed state, not the waiting deposit's write")
	select {
	case err := <-done:
		t.Fatalf("the deposit ended (%v) before the balance was read: balance did not run during the ask", err)
	default:
	}
	assert.Less(t, time.Since(start), 700*time.Millisecond, "balance waited for the deposit")
	err := <-done
	var e *abi.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, abi.CodeTimeout, e.Code)
	assert.EqualValues(t, 5, balance(), "the failed deposit left nothing")

	// A deposit approved by another ledger commits; balance then sees it.
	require.NoError(t, deposit(map[string]any{"amount": 7, "approver": "ledger/bank"}))
	assert.EqualValues(t, 12, balance())
}
