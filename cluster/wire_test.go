package cluster

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

func TestAskEnvelopeRoundTrip(t *testing.T) {
	for _, q := range []AskRequest{
		{Target: abi.Ref{Type: "counter", ID: "a"}, Method: "add"},
		{Target: abi.Ref{Type: "bank", ID: "x/y"}, Method: "transfer", Payload: []byte{0xa1, 0x01, 0x02},
			Sender: "teller/1", ID: "m-1", Key: "k-1", Chain: []string{"teller/1", "bank/a"}},
		{Target: abi.Ref{Type: "c", ID: "1"}, Method: "m", Payload: []byte{}},
	} {
		got, left, err := decodeAsk(q.appendTo(nil, 1234))
		require.NoError(t, err)
		assert.Equal(t, uint64(1234), left)
		assert.Equal(t, q, *got)
	}
}

func TestAskEnvelopeRefused(t *testing.T) {
	good := (&AskRequest{Target: abi.Ref{Type: "c", ID: "1"}, Method: "m"}).appendTo(nil, 5)
	long := strings.Repeat("x", maxTextField+1)
	chain := make([]string, MaxChain+1)
	for i := range chain {
		chain[i] = "a/b"
	}
	for name, p := range map[string][]byte{
		"empty":          nil,
		"not a map":      abi.AppendText(nil, "hello"),
		"trailing":       append(append([]byte{}, good...), 0x00),
		"no time left":   abi.AppendText(abi.AppendUint(abi.AppendText(abi.AppendUint(abi.AppendMapHeader(nil, 2), 1), "c/1"), 2), "m"),
		"bad target":     (&AskRequest{Target: abi.Ref{Type: "", ID: ""}, Method: "m"}).appendTo(nil, 5),
		"long method":    (&AskRequest{Target: abi.Ref{Type: "c", ID: "1"}, Method: long}).appendTo(nil, 5),
		"long chain":     (&AskRequest{Target: abi.Ref{Type: "c", ID: "1"}, Method: "m", Chain: chain}).appendTo(nil, 5),
		"duplicate keys": abi.AppendText(abi.AppendUint(append(abi.AppendMapHeader(nil, 4), good[1:]...), 1), "c/2"),
		"too much time":  (&AskRequest{Target: abi.Ref{Type: "c", ID: "1"}, Method: "m"}).appendTo(nil, uint64(MaxAskTime.Milliseconds())+1),
		"huge time":      (&AskRequest{Target: abi.Ref{Type: "c", ID: "1"}, Method: "m"}).appendTo(nil, 1<<63),
		"many fields":    manyFields(good),
	} {
		_, _, err := decodeAsk(p)
		assert.ErrorIs(t, err, errEnvelope, name)
	}
}

func FuzzDecodeAsk(f *testing.F) {
	f.Add((&AskRequest{Target: abi.Ref{Type: "c", ID: "1"}, Method: "m", Payload: []byte{1}, Chain: []string{"a/b"}}).appendTo(nil, 7))
	f.Add([]byte{0xa1, 0x08, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		q, left, err := decodeAsk(p)
		if err != nil {
			return
		}
		again, left2, err := decodeAsk(q.appendTo(nil, left))
		if err != nil {
			t.Fatalf("re-encoding a decoded ask does not decode: %v", err)
		}
		if left2 != left || again.Target != q.Target || again.Method != q.Method || len(again.Chain) != len(q.Chain) {
			t.Fatalf("round trip changed the ask: %+v vs %+v", again, q)
		}
	})
}

// manyFields is the envelope good with unknown keys added up to one field
// more than maxAskFields.
func manyFields(good []byte) []byte {
	p := abi.AppendMapHeader(nil, maxAskFields+1)
	p = append(p, good[1:]...)
	for k := range maxAskFields + 1 - 3 {
		p = abi.AppendUint(abi.AppendUint(p, uint64(100+k)), 0)
	}
	return p
}

// TestNATSURLSecretsStayOut checks that neither a password nor a token
// in a nats_url appears in what CheckNATSURL says or RedactNATSURL logs.
func TestNATSURLSecretsStayOut(t *testing.T) {
	for _, s := range []string{
		"nats://u:s3cr3t@h:notaport",
		"nats://s3cr3t@h:1/x?y",
		"ws://u:s3cr3t@h:1",
		"nats://ok:4222, tls://u:s3cr3t@h:1/path",
		"nats://u:s3cr3t@h:1",
	} {
		msg := CheckNATSURL(s)
		assert.NotContains(t, msg, "s3cr3t", s)
		red := RedactNATSURL(s)
		assert.NotContains(t, red, "s3cr3t", s)
		assert.Contains(t, red, "xxxxx@h:", s)
	}
	assert.Contains(t, CheckNATSURL("nats://u:s3cr3t@h:notaport"), `"nats://xxxxx@h:notaport"`)
	assert.Equal(t, "nats://a:1,tls://b:2", RedactNATSURL("nats://a:1, tls://b:2"))
}
