package cluster

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawPublish publishes payload with the header lines hdrs on subject,
// speaking the NATS protocol itself, as a hostile client may: a NATS
// client library would replace the CR and LF of a header value.
func rawPublish(t *testing.T, n *Node, subject string, hdrs []string, payload string) {
	t.Helper()
	u, err := url.Parse(clientURL(t, n))
	require.NoError(t, err)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	r := bufio.NewReader(conn)
	_, err = r.ReadString('\n') // INFO
	require.NoError(t, err)
	hdr := "NATS/1.0\r\n" + strings.Join(hdrs, "\r\n") + "\r\n\r\n"
	_, err = conn.Write([]byte(`CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}` + "\r\n" +
		"HPUB " + subject + " " + strconv.Itoa(len(hdr)) + " " + strconv.Itoa(len(hdr)+len(payload)) + "\r\n" +
		hdr + payload + "\r\nPING\r\n"))
	require.NoError(t, err)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "PONG\r\n", line, "the server took the publication")
}

// TestHostileTopicRelay: a publication relayed on a topic's subject by
// someone other than a node, with an id or sender that is not one (a
// lone CR, which a NATS header keeps, ends a line of a server-sent event:
// the gateway writes the id on its "id:" line, so the rest would be read
// by the follower as fields of the publisher's choosing), is dropped; a
// well-formed one is relayed.
func TestHostileTopicRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := startAlone(t, ctx, "hostiletopics")
	defer n.Close(ctx)
	events := make(chan TopicEvent, 16)
	stop, err := n.FollowTopic("news", func(ev TopicEvent) { events <- ev })
	require.NoError(t, err)
	defer stop()
	subject := topicPrefix("hostiletopics") + "news"

	for name, hdrs := range map[string][]string{
		"CR in the id":           {"Wactor-Origin: other", "Wactor-Id: 1\rdata: forged"},
		"no id":                  {"Wactor-Origin: other"},
		"id over 1024 bytes":     {"Wactor-Origin: other", "Wactor-Id: " + strings.Repeat("x", maxTextField+1)},
		"CR in the sender":       {"Wactor-Origin: other", "Wactor-Id: 2", "Wactor-Sender: a/b\revent: dropped"},
		"sender not an actor":    {"Wactor-Origin: other", "Wactor-Id: 3", "Wactor-Sender: nobody"},
		"NUL in the id":          {"Wactor-Origin: other", "Wactor-Id: 4\x00"},
		"DEL in the sender's id": {"Wactor-Origin: other", "Wactor-Id: 5", "Wactor-Sender: a/b\x7f"},
	} {
		rawPublish(t, n, subject, hdrs, "\xf6")
		select {
		case ev := <-events:
			t.Errorf("%s: relayed %.40q from %q", name, ev.ID, ev.Sender)
		case <-time.After(50 * time.Millisecond):
		}
	}
	rawPublish(t, n, subject, []string{"Wactor-Origin: other", "Wactor-Id: good-1", "Wactor-Sender: a/b"}, "\xf6")
	select {
	case ev := <-events:
		assert.Equal(t, TopicEvent{ID: "good-1", Topic: "news", Sender: "a/b", Payload: []byte{0xf6}}, ev)
	case <-time.After(10 * time.Second):
		t.Fatal("a well-formed relayed publication did not arrive")
	}
}
