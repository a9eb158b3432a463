package cluster

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
)

func TestAskEnvelopeRoundTrip(t *testing.T) {
	for _, q := range []AskRequest{
		{Target: abi.Ref{Type: "counter", ID: "a"}, Method: "add"},
		{Target: abi.Ref{Type: "bank", ID: "x/y"}, Method: "transfer", Payload: []byte{0xa1, 0x01, 0x02},
			Sender: "teller/1", ID: "m-1", Key: "k-1", Chain: []string{"teller/1", "bank/a"}},
		{Target: abi.Ref{Type: "c", ID: "1"}, Method: "m", Payload: []byte{}},
		{Target: abi.Ref{Type: "c", ID: "1"}, Method: "m", Trace: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Hops: 2},
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

func TestDeliveryRoundTrip(t *testing.T) {
	msgs := []storage.Message{
		{ID: "01", Target: "counter/a", Method: "add", Payload: []byte{0xa1, 0x61, 0x6e, 0x01}},
		{ID: "02", Target: "bank/x/y", Sender: "teller/1", Method: "pay", Payload: []byte{}, Key: "k", Trace: "00-x"},
	}
	got, left, err := decodeDelivery(appendDelivery(nil, msgs, 99))
	require.NoError(t, err)
	assert.Equal(t, uint64(99), left)
	assert.Equal(t, msgs, got)
	refused := map[string]string{"bank/x": "n2", "c/1": ""}
	back, err := decodeRefused(appendRefused(nil, refused))
	require.NoError(t, err)
	assert.Equal(t, refused, back)

	for name, p := range map[string][]byte{
		"empty":       nil,
		"no messages": abi.AppendUint(abi.AppendUint(abi.AppendMapHeader(nil, 1), 1), 5),
		"bad target":  appendDelivery(nil, []storage.Message{{ID: "1", Target: "nope", Method: "m"}}, 5),
		"long id":     appendDelivery(nil, []storage.Message{{ID: strings.Repeat("x", maxTextField+1), Target: "c/1", Method: "m"}}, 5),
		"no method":   appendDelivery(nil, []storage.Message{{ID: "1", Target: "c/1"}}, 5),
		"too many":    appendDelivery(nil, make([]storage.Message, MaxDeliver+1), 5),
		"too long":    appendDelivery(nil, msgs, uint64(MaxAskTime.Milliseconds())+1),
		"trailing":    append(appendDelivery(nil, msgs, 5), 0),
	} {
		_, _, err := decodeDelivery(p)
		assert.ErrorIs(t, err, errEnvelope, name)
	}
}

func TestAnswerRoundTrip(t *testing.T) {
	reply, err := decodeAnswer(answer([]byte{0x01}, nil))
	require.NoError(t, err)
	assert.Equal(t, []byte{0x01}, reply)
	_, err = decodeAnswer(answer(nil, abi.NewError("insufficient_funds", "no")))
	assert.Equal(t, abi.NewError("insufficient_funds", "no"), err)
	_, err = decodeAnswer(answer(nil, &NotServedError{Owner: "n2", Err: abi.NewError(abi.CodeUnavailable, "moved")}))
	var ns *NotServedError
	require.ErrorAs(t, err, &ns)
	assert.Equal(t, "n2", ns.Owner)
	// The answer reads as an abi.Reply too.
	var y abi.Reply
	require.NoError(t, y.Decode(answer(nil, &NotServedError{Owner: "n2", Err: abi.NewError(abi.CodeUnavailable, "moved")})))
	assert.Equal(t, abi.Reply{Code: abi.CodeUnavailable, Message: "moved"}, y)
}

func FuzzDecodeDelivery(f *testing.F) {
	f.Add(appendDelivery(nil, []storage.Message{{ID: "1", Target: "c/1", Method: "m", Payload: []byte{1}}}, 7))
	f.Fuzz(func(t *testing.T, p []byte) {
		msgs, left, err := decodeDelivery(p)
		if err != nil {
			return
		}
		again, left2, err := decodeDelivery(appendDelivery(nil, msgs, left))
		require.NoError(t, err)
		assert.Equal(t, left, left2)
		assert.Len(t, again, len(msgs))
	})
}
