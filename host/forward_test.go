package host_test

import (
	"context"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
)

// The chain example answers an ask with forwards only: hello -> world ->
// punctuate, whose reply reaches the asker.
func TestForwardChain(t *testing.T) {
	ctx := context.Background()
	h := memHost(t)
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "chain", Module: testwasm.Go(t, "chain")}))
	require.NoError(t, h.Start(ctx))
	p, err := cbor.Marshal(map[string]string{"name": "Ada"})
	require.NoError(t, err)
	reply, err := h.Ask(ctx, abi.Ref{Type: "chain", ID: "a"}, "hello", p)
	require.NoError(t, err)
	var got struct {
		Text string `cbor:"text"`
	}
	require.NoError(t, cbor.Unmarshal(reply, &got))
	assert.Equal(t, "Hello, Ada, and the World!", got.Text)
	assert.ElementsMatch(t, []abi.Ref{{Type: "chain", ID: "a"}, {Type: "chain", ID: "a-world"}, {Type: "chain", ID: "a-punctuate"}}, h.Activations())

}
