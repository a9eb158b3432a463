package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTTL is the lease TTL of the test clusters: the shortest allowed,
// so that a dead node drops out quickly.
const testTTL = MinLeaseTTL

// freeAddrs returns n addresses on 127.0.0.1 that were free a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// testLogger logs to t at warn level and above.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// startNodes starts n embedded servers routing to each other, at once
// (JetStream needs a majority up to elect a leader), and returns them in
// name order with how long they took.
func startNodes(t *testing.T, n int) ([]*Node, time.Duration) {
	t.Helper()
	for try := 1; ; try++ {
		nodes, took, err := tryStartNodes(t, n)
		if err == nil {
			return nodes, took
		}
		// The ports were free when freeAddrs picked them, but another
		// process (a parallel test, or an outgoing connection's ephemeral
		// port) may take one before its server listens: pick again.
		if !strings.Contains(err.Error(), "address already in use") || try == 3 {
			t.Fatal(err)
		}
		t.Logf("starting the cluster again on other ports: %v", err)
	}
}

// tryStartNodes is one attempt of startNodes: when a node fails to
// start, the others stop waiting for it, and all are closed.
func tryStartNodes(t *testing.T, n int) ([]*Node, time.Duration, error) {
	addrs := freeAddrs(t, n)
	var routes []string
	for _, a := range addrs {
		routes = append(routes, "nats-route://"+a)
	}
	nodes := make([]*Node, n)
	errs := make([]error, n)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			nodes[i], errs[i] = Start(ctx, Config{
				Name: "test", Node: fmt.Sprintf("n%d", i+1), LeaseTTL: testTTL,
				DataDir: t.TempDir(), ClusterAddr: addrs[i], Routes: routes, Logger: testLogger(t),
			})
			if errs[i] != nil {
				cancel() // the others wait for a majority that will not come
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	var failed []error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Errorf("node %d: %w", i+1, err))
		}
	}
	if failed != nil {
		for _, nd := range nodes {
			if nd != nil {
				nd.Close(context.Background())
			}
		}
		return nil, 0, errors.Join(failed...)
	}
	return nodes, took, nil
}

// waitFor polls cond every 20ms until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// activeNames returns the names of the active members n sees.
func activeNames(n *Node) []string {
	var out []string
	for _, m := range n.Members() {
		if m.State == StateActive {
			out = append(out, m.Node)
		}
	}
	return out
}

func TestCluster(t *testing.T) {
	nodes, took := startNodes(t, 3)
	t.Logf("3 embedded servers formed a cluster with JetStream in %s", took)
	defer func() {
		for _, n := range nodes {
			n.Close(context.Background())
		}
	}()
	for _, n := range nodes {
		assert.Equal(t, 3, n.Replicas())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	joined := time.Now()
	for i, n := range nodes {
		require.NoError(t, n.Join(ctx, fmt.Sprintf("127.0.0.1:%d", 8081+i), func() int { return 10 + i }))
	}
	changed := nodes[0].Placement().Changed()
	for _, n := range nodes {
		require.NoError(t, n.SetState(ctx, StateActive))
	}
	all := []string{"n1", "n2", "n3"}
	for _, n := range nodes {
		waitFor(t, 10*time.Second, n.NodeName()+" sees 3 active members", func() bool { return assert.ObjectsAreEqual(all, activeNames(n)) })
	}
	t.Logf("membership converged %s after the first Join", time.Since(joined))
	select {
	case <-changed:
	default:
		t.Fatal("Changed did not signal the members becoming active")
	}

	t.Run("members", func(t *testing.T) {
		for _, n := range nodes {
			// Activation counts arrive with the heartbeats.
			waitFor(t, 5*time.Second, "activation counts", func() bool {
				ms := n.Members()
				return len(ms) == 3 && ms[0].Activations == 10 && ms[1].Activations == 11 && ms[2].Activations == 12
			})
			for i, m := range n.Members() {
				assert.Equal(t, fmt.Sprintf("127.0.0.1:%d", 8081+i), m.HTTPAddr)
				assert.Equal(t, m.Node == n.NodeName(), m.Self)
				assert.False(t, m.Started.IsZero())
			}
		}
	})

	t.Run("placement agrees", func(t *testing.T) {
		owners := map[string]int{}
		for i := range 3000 {
			ref := abi.Ref{Type: "counter", ID: fmt.Sprint(i)}
			owner, self := nodes[0].Placement().Owner(ref)
			owners[owner]++
			assert.Equal(t, owner == "n1", self)
			for _, n := range nodes[1:] {
				o, s := n.Placement().Owner(ref)
				assert.Equal(t, owner, o, "nodes disagree on %s", ref)
				assert.Equal(t, o == n.NodeName(), s)
			}
		}
		assert.Len(t, owners, 3, "every node owns some actors: %v", owners)
	})

	t.Run("transport", func(t *testing.T) { testTransport(t, nodes) })

	t.Run("name taken", func(t *testing.T) {
		// A fourth node with n2's name, on the cluster by URL.
		other, err := Start(ctx, Config{Name: "test", Node: "n2", LeaseTTL: testTTL, NATSURL: clientURL(t, nodes[0])})
		require.NoError(t, err)
		defer other.Close(context.Background())
		err = other.Join(ctx, "127.0.0.1:9999", nil)
		assert.ErrorIs(t, err, ErrNameTaken)
	})

	t.Run("by URL", func(t *testing.T) {
		// A node without a server of its own, on the cluster by URL, joins
		// and leaves.
		d, err := Start(ctx, Config{Name: "test", Node: "n4", LeaseTTL: testTTL, NATSURL: clientURL(t, nodes[1])})
		require.NoError(t, err)
		require.NoError(t, d.Join(ctx, "127.0.0.1:8084", nil))
		require.NoError(t, d.SetState(ctx, StateActive))
		four := []string{"n1", "n2", "n3", "n4"}
		for _, n := range append(nodes, d) {
			waitFor(t, 5*time.Second, n.NodeName()+" sees n4", func() bool { return assert.ObjectsAreEqual(four, activeNames(n)) })
		}
		closing := time.Now()
		require.NoError(t, d.Close(ctx))
		waitFor(t, 2*time.Second, "n4's leave seen", func() bool {
			for _, n := range nodes {
				if len(n.Members()) != 3 {
					return false
				}
			}
			return true
		})
		for _, n := range nodes {
			assert.True(t, n.Drained("n4"), "%s: n4 deleted its entry while leaving: drained", n.NodeName())
			assert.False(t, n.Drained("n1"), "a member is not drained")
		}
		t.Logf("a graceful leave was seen by every node %s after Close began", time.Since(closing))
	})

	t.Run("killed node drops out", func(t *testing.T) {
		changed := nodes[0].Placement().Changed()
		// The entry expires within the TTL; a poll every TTL/3 sees it;
		// JetStream may take up to a second more to expire it. When n3's
		// server led the member list, its stream first elects a new leader
		// (nats-server waits 4 to 9 s for that), and only then expires it.
		bound := testTTL + testTTL/3 + time.Second
		if leader := listLeader(t, nodes[0]); leader == "n3" {
			bound += 10 * time.Second
			t.Logf("n3 leads the member list: its death waits for an election")
		}
		killed := time.Now()
		nodes[2].kill()
		took := waitFor(t, bound+2*time.Second, "n3 dropping out", func() bool {
			return assert.ObjectsAreEqual([]string{"n1", "n2"}, activeNames(nodes[0])) &&
				assert.ObjectsAreEqual([]string{"n1", "n2"}, activeNames(nodes[1]))
		})
		t.Logf("a killed node dropped out of the member lists %s after it stopped (TTL %s)", time.Since(killed), testTTL)
		assert.LessOrEqual(t, took, bound, "n3 took longer than TTL + a poll + 1s to drop out")
		select {
		case <-changed:
		default:
			t.Fatal("Changed did not signal n3's death")
		}
		// n2 dies too: the list (three copies) has lost its majority, and
		// n1 can no longer read it; ListedAt says so.
		nodes[1].kill()
		waitFor(t, 5*testTTL, "n1 noticing it cannot read the list", func() bool { return time.Since(nodes[0].ListedAt()) > 2*testTTL })
		assert.False(t, nodes[0].ListedAt().IsZero())
		for i := range 500 {
			ref := abi.Ref{Type: "counter", ID: fmt.Sprint(i)}
			o1, _ := nodes[0].Placement().Owner(ref)
			o2, _ := nodes[1].Placement().Owner(ref)
			assert.Equal(t, o1, o2)
			assert.NotEqual(t, "n3", o1)
		}
	})
}

// listLeader names the server that leads the stream of n's member list,
// or "" when it cannot tell.
func listLeader(t *testing.T, n *Node) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := n.JetStream().Stream(ctx, "KV_"+n.bucketName())
	if err != nil {
		t.Logf("the member list's stream: %v", err)
		return ""
	}
	if c := st.CachedInfo().Cluster; c != nil {
		return c.Leader
	}
	return ""
}

// clientURL returns the URL of n's embedded server's client port (on
// 127.0.0.1, a free port).
func clientURL(t *testing.T, n *Node) string {
	t.Helper()
	u := n.srv.srv.ClientURL()
	require.NotEmpty(t, u)
	return u
}

func testTransport(t *testing.T, nodes []*Node) {
	ctx := context.Background()
	for _, n := range nodes {
		name := n.NodeName()
		require.NoError(t, n.Transport().Serve(func(ctx context.Context, req *AskRequest) ([]byte, error) {
			switch req.Method {
			case "echo":
				return append([]byte(name+":"), req.Payload...), nil
			case "refuse":
				return nil, abi.NewError("insufficient_funds", "balance 3, asked 5")
			case "plain":
				return nil, errors.New("disk on fire")
			case "block":
				<-ctx.Done()
				return nil, abi.NewError(abi.CodeTimeout, "handler saw its deadline")
			case "moved":
				return nil, &NotServedError{Owner: "n3", Err: abi.NewError(abi.CodeUnavailable, "counter/a is served by n3")}
			case "chain":
				return fmt.Appendf(nil, "%s %s %s %s %v", req.Target, req.Sender, req.ID, req.Key, req.Chain), nil
			}
			return nil, abi.NewError(abi.CodeUnknownMethod, req.Method)
		}, func(ctx context.Context, msgs []storage.Message) (map[string]string, error) {
			return deliverTo(name, msgs)
		}))
	}
	tr := nodes[0].Transport()
	ref := abi.Ref{Type: "counter", ID: "a"}
	// A subscription reaches the other servers over the routes a moment
	// after Serve: until then an ask finds no responder.
	for _, n := range nodes {
		for _, to := range []string{"n1", "n2", "n3"} {
			waitFor(t, 5*time.Second, n.NodeName()+" reaching "+to, func() bool {
				_, err := n.Transport().Ask(ctx, to, &AskRequest{Target: ref, Method: "echo"})
				return err == nil
			})
		}
	}

	reply, err := tr.Ask(ctx, "n2", &AskRequest{Target: ref, Method: "echo", Payload: []byte("hi")})
	require.NoError(t, err)
	assert.Equal(t, "n2:hi", string(reply))

	reply, err = tr.Ask(ctx, "n3", &AskRequest{Target: ref, Method: "chain", Sender: "teller/1", ID: "m1", Key: "k1", Chain: []string{"teller/1", "bank/b"}})
	require.NoError(t, err)
	assert.Equal(t, "counter/a teller/1 m1 k1 [teller/1 bank/b]", string(reply))

	// A node that does not serve the target says so, and names the owner.
	_, err = tr.Ask(ctx, "n2", &AskRequest{Target: ref, Method: "moved"})
	var ns *NotServedError
	require.ErrorAs(t, err, &ns)
	assert.Equal(t, "n3", ns.Owner)
	assert.ErrorIs(t, err, abi.ErrUnavailable)

	// Deliveries: the node takes what it serves and refuses the rest,
	// naming their owner.
	refused, err := tr.Deliver(ctx, "n2", []storage.Message{
		{ID: "1", Target: "counter/a", Method: "add", Payload: []byte{0xa0}, Trace: "00-x"},
		{ID: "2", Target: "bank/x", Sender: "counter/b", Method: "add", Key: "k"},
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"bank/x": "n1"}, refused)
	_, err = tr.Deliver(ctx, "n2", []storage.Message{{ID: "1", Target: "counter/a", Method: "fail"}})
	assert.ErrorContains(t, err, "disk on fire")
	_, err = tr.Deliver(ctx, "nobody", []storage.Message{{ID: "1", Target: "counter/a", Method: "add"}})
	require.ErrorAs(t, err, &ns, "no node: not served")
	_, err = tr.Deliver(ctx, "n2", make([]storage.Message, MaxDeliver+1))
	assert.ErrorIs(t, err, abi.ErrTooLarge)

	_, err = tr.Ask(ctx, "n2", &AskRequest{Target: ref, Method: "refuse"})
	var e *abi.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, &abi.Error{Code: "insufficient_funds", Message: "balance 3, asked 5"}, e)

	_, err = tr.Ask(ctx, "n2", &AskRequest{Target: ref, Method: "plain"})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, abi.CodeUnavailable, e.Code)
	assert.Contains(t, e.Message, "disk on fire")

	// The caller's deadline travels: the handler's context ends with it.
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	start := time.Now()
	_, err = tr.Ask(dctx, "n3", &AskRequest{Target: ref, Method: "block"})
	cancel()
	took := time.Since(start)
	assert.ErrorIs(t, err, abi.ErrTimeout)
	assert.GreaterOrEqual(t, took, 250*time.Millisecond)
	assert.Less(t, took, 2*time.Second)

	_, err = tr.Ask(ctx, "nobody", &AskRequest{Target: ref, Method: "echo"})
	require.ErrorAs(t, err, &ns, "a node that does not serve asks did not apply it")
	require.ErrorAs(t, err, &e)
	assert.Equal(t, abi.CodeUnavailable, e.Code)
	assert.Contains(t, e.Message, "does not serve asks")

	_, err = tr.Ask(ctx, "n2", &AskRequest{Target: ref, Method: "echo", Payload: make([]byte, MaxPayload)})
	assert.ErrorIs(t, err, abi.ErrTooLarge)

	_, err = tr.Ask(ctx, "bad.name", &AskRequest{Target: ref, Method: "echo"})
	assert.ErrorIs(t, err, abi.ErrBadRequest)

	// Many at once, to every node.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			node := fmt.Sprintf("n%d", i%3+1)
			reply, err := nodes[i%2].Transport().Ask(ctx, node, &AskRequest{Target: ref, Method: "echo", Payload: fmt.Append(nil, i)})
			if assert.NoError(t, err) {
				assert.Equal(t, fmt.Sprintf("%s:%d", node, i), string(reply))
			}
		})
	}
	wg.Wait()
}

// deliverTo is the delivery handler of test node name: it takes the
// messages to counters and refuses the others, naming n1 their owner; a
// first message of method "fail" fails the whole delivery.
func deliverTo(name string, msgs []storage.Message) (map[string]string, error) {
	if len(msgs) > 0 && msgs[0].Method == "fail" {
		return nil, errors.New("disk on fire at " + name)
	}
	refused := map[string]string{}
	for _, m := range msgs {
		if !strings.HasPrefix(m.Target, "counter/") {
			refused[m.Target] = "n1"
		}
	}
	return refused, nil
}

// TestClusterOfOne: routes naming only the node itself make a cluster of
// one, with JetStream unclustered and streams of one replica.
// startAlone starts a cluster of one node, "only", of the cluster name.
func startAlone(t *testing.T, ctx context.Context, name string) *Node {
	t.Helper()
	addr := freeAddrs(t, 1)[0]
	n, err := Start(ctx, Config{Name: name, Node: "only", DataDir: t.TempDir(), ClusterAddr: addr,
		Routes: []string{"nats-route://" + addr}, Logger: testLogger(t)})
	require.NoError(t, err)
	return n
}

func TestClusterOfOne(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := startAlone(t, ctx, "solo")
	assert.Equal(t, 1, n.Replicas())
	require.NoError(t, n.Join(ctx, "127.0.0.1:1", nil))
	require.NoError(t, n.SetState(ctx, StateActive))
	owner, self := n.Placement().Owner(abi.Ref{Type: "a", ID: "b"})
	assert.Equal(t, "only", owner)
	assert.True(t, self)
	require.NoError(t, n.Close(ctx))
	require.NoError(t, n.Close(ctx), "a second Close is a no-op")
	assert.ErrorIs(t, n.SetState(ctx, StateActive), ErrClosed)
}

func TestConfigRefused(t *testing.T) {
	good := func() Config {
		return Config{Name: "c", Node: "n", DataDir: "/tmp/x", ClusterAddr: "127.0.0.1:6222", Routes: []string{"nats-route://127.0.0.1:6222"}}
	}
	for name, tc := range map[string]struct {
		edit func(*Config)
		want string
	}{
		"no name":        {func(c *Config) { c.Name = "" }, "cluster empty name"},
		"dotted node":    {func(c *Config) { c.Node = "a.b" }, `node name "a.b" contains '.'`},
		"short ttl":      {func(c *Config) { c.LeaseTTL = time.Millisecond }, "lease TTL 1ms"},
		"no routes":      {func(c *Config) { c.Routes = nil }, "no routes"},
		"bad route":      {func(c *Config) { c.Routes = []string{"http://x:1"} }, `scheme "http"`},
		"no data":        {func(c *Config) { c.DataDir = "" }, "data folder"},
		"bad addr":       {func(c *Config) { c.ClusterAddr = "nope" }, "cluster address"},
		"url and routes": {func(c *Config) { c.NATSURL = "nats://x:4222" }, "routes, client and cluster addresses do not apply"},
		"bad url":        {func(c *Config) { c.NATSURL = "x:4222"; c.Routes = nil; c.ClusterAddr = "" }, "nats_url"},
		"huge payload":   {func(c *Config) { c.MaxPayload = MaxPayloadLimit + 1 }, "max payload"},
	} {
		c := good()
		tc.edit(&c)
		_, err := Start(context.Background(), c)
		assert.ErrorIs(t, err, ErrConfig, name)
		assert.ErrorContains(t, err, tc.want, name)
	}
}

// TestHostileAsks sends a node's ask subject what a hostile client on
// NATS could: garbage, deep nesting, a huge envelope, no or too much time
// left, an ask with no reply subject. Each is answered with an error (or,
// with no reply subject, dropped) without reaching the handler, and the
// node still answers a good ask.
func TestHostileAsks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := startAlone(t, ctx, "hostile")
	var calls atomic.Int32
	require.NoError(t, n.Transport().Serve(func(ctx context.Context, req *AskRequest) ([]byte, error) {
		calls.Add(1)
		return []byte{0x01}, nil
	}, nil))
	subject := askSubject("hostile", "only")
	ask := func(timeMS uint64) []byte {
		return (&AskRequest{Target: abi.Ref{Type: "c", ID: "1"}, Method: "m"}).appendTo(nil, timeMS)
	}
	deep := append(bytes.Repeat([]byte{0x81}, 100_000), 0x00) // arrays in arrays
	// The three fields of ask(1000), then a payload of almost MaxPayload.
	huge := append(abi.AppendMapHeader(nil, 4), ask(1000)[1:]...)
	huge = abi.AppendBytes(abi.AppendUint(huge, 3), make([]byte, MaxPayload-64))
	for name, tc := range map[string]struct {
		data []byte
		code string
	}{
		"garbage":                            {[]byte("\xff\xfe\x00garbage"), abi.CodeBadRequest},
		"deep":                               {deep, abi.CodeBadRequest},
		"deep, cut short, in an unknown key": {append(append(abi.AppendMapHeader(nil, 4), ask(1000)[1:]...), append([]byte{0x18, 0x63}, deep[:len(deep)-1]...)...), abi.CodeBadRequest},
		"map of 2^32":                        {[]byte{0xba, 0xff, 0xff, 0xff, 0xff}, abi.CodeBadRequest},
		"too much time":                      {ask(uint64(MaxAskTime.Milliseconds()) + 1), abi.CodeBadRequest},
		"no time left":                       {ask(0), abi.CodeTimeout},
	} {
		msg, err := n.nc.Request(subject, tc.data, 10*time.Second)
		require.NoError(t, err, name)
		var y abi.Reply
		require.NoError(t, y.Decode(msg.Data), name)
		assert.Equal(t, tc.code, y.Code, "%s: %s", name, y.Message)
	}
	assert.Zero(t, calls.Load(), "a refused ask reached the handler")

	// Published with no reply subject: dropped, never applied.
	require.NoError(t, n.nc.Publish(subject, ask(1000)))
	msg, err := n.nc.Request(subject, huge, 10*time.Second)
	require.NoError(t, err, "an envelope of almost MaxPayload")
	var y abi.Reply
	require.NoError(t, y.Decode(msg.Data))
	assert.Empty(t, y.Code, y.Message)
	require.NoError(t, n.Close(ctx)) // waits for every ask being applied
	assert.Equal(t, int32(1), calls.Load(), "only the ask with a reply subject was applied")
}

// TestAskBytesBounded: the asks a node applies at once hold at most
// maxBytes; one more is refused with unavailable while they run, and
// taken again once they are done.
func TestAskBytesBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := startAlone(t, ctx, "bytes")
	n.tr.maxBytes = 1 << 20
	started, release := make(chan struct{}, 1), make(chan struct{})
	require.NoError(t, n.Transport().Serve(func(ctx context.Context, req *AskRequest) ([]byte, error) {
		if req.Method == "hold" {
			started <- struct{}{}
			<-release
		}
		return []byte{0x01}, nil
	}, nil))
	subject := askSubject("bytes", "only")
	ask := func(method string, size int) []byte {
		return (&AskRequest{Target: abi.Ref{Type: "c", ID: "1"}, Method: method, Payload: make([]byte, size)}).appendTo(nil, 10_000)
	}
	code := func(data []byte) string {
		t.Helper()
		msg, err := n.nc.Request(subject, data, 10*time.Second)
		require.NoError(t, err)
		var y abi.Reply
		require.NoError(t, y.Decode(msg.Data))
		return y.Code
	}
	held := make(chan string, 1)
	go func() {
		msg, err := n.nc.Request(subject, ask("hold", 700<<10), 10*time.Second)
		if err != nil {
			held <- err.Error()
			return
		}
		var y abi.Reply
		_ = y.Decode(msg.Data)
		held <- y.Code
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the first ask did not reach the handler")
	}
	assert.Equal(t, abi.CodeUnavailable, code(ask("more", 700<<10)), "over the byte budget")
	assert.Empty(t, code(ask("small", 10)), "a small ask still fits")
	close(release)
	assert.Empty(t, <-held)
	assert.Empty(t, code(ask("more", 700<<10)), "taken once the first is done")
	require.NoError(t, n.Close(ctx))
}
