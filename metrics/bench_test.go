package metrics_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/cputime"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/metrics"
	"github.com/wactor/wactor/storage/memstore"
)

// node is a host with the C counter deployed and a gateway over it, with
// metrics on or off, as wactor run sets them up.
type node struct {
	h   *host.Host
	srv *httptest.Server
}

func newNode(b *testing.B, on bool) *node {
	b.Helper()
	ctx := context.Background()
	cfg := host.Config{Store: memstore.New(), CacheDir: testwasm.CacheDir(b)}
	var gcfg gateway.Config
	var m *metrics.Metrics
	if on {
		m = metrics.New(metrics.Options{})
		cfg.Observer = m
	}
	h, err := host.New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := h.Deploy(ctx, host.TypeConfig{Name: "counter", Module: testwasm.C(b, "counter"), Mailbox: 1 << 16}); err != nil {
		b.Fatal(err)
	}
	if err := h.Start(ctx); err != nil {
		b.Fatal(err)
	}
	if on {
		m.Watch(h)
		gcfg.Metrics, gcfg.Observer = m.Handler(), m
	}
	g := gateway.New(h, gcfg)
	g.SetReady(true)
	n := &node{h: h, srv: httptest.NewServer(g)}
	b.Cleanup(func() {
		n.srv.Close()
		_ = h.Close(context.Background())
	})
	return n
}

var (
	getPayload = []byte{0xa0}                  // {}
	addPayload = []byte{0xa1, 0x61, 'n', 0x01} // {"n": 1}
	addJSON    = []byte(`{"n":1}`)
)

// The shape of the measurement.
const (
	fanOut = 100 // actors the tells go to
	rounds = 200 // chunks of each side, interleaved
)

// overhead is one path measured with metrics off and on.
type overhead struct {
	name string
	// prepare runs untimed before the chunks (activations, connections).
	prepare func(b *testing.B, n *node)
	// run does n operations on the node, all finished when it returns.
	run func(b *testing.B, nd *node, n int)
}

var paths = []overhead{
	{
		// An ask that writes state: gateway-less message path, turn and
		// commit.
		name:    "ask",
		prepare: func(b *testing.B, nd *node) { askOK(b, nd.h, abi.Ref{Type: "counter", ID: "a"}, "get", getPayload) },
		run: func(b *testing.B, nd *node, n int) {
			ref := abi.Ref{Type: "counter", ID: "a"}
			for i := 0; i < n; i++ {
				askOK(b, nd.h, ref, "add", addPayload)
			}
		},
	},
	{
		// Durable tells spread over fanOut actors: outbox commit,
		// delivery, turn, consuming commit; a get to each actor at the
		// end waits for its tells.
		name: "tell",
		prepare: func(b *testing.B, nd *node) {
			for i := 0; i < fanOut; i++ {
				askOK(b, nd.h, abi.Ref{Type: "counter", ID: strconv.Itoa(i)}, "get", getPayload)
			}
		},
		run: func(b *testing.B, nd *node, n int) {
			ctx := context.Background()
			for i := 0; i < n; i++ {
				if err := nd.h.Tell(ctx, abi.Ref{Type: "counter", ID: strconv.Itoa(i % fanOut)}, "add", addPayload); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; i < min(n, fanOut); i++ {
				askOK(b, nd.h, abi.Ref{Type: "counter", ID: strconv.Itoa(i)}, "get", getPayload)
			}
		},
	},
	{
		// An HTTP ask over loopback with a kept-alive connection: JSON
		// to CBOR, the ask, CBOR to JSON.
		name:    "http",
		prepare: func(b *testing.B, nd *node) { postOK(b, nd) },
		run: func(b *testing.B, nd *node, n int) {
			for i := 0; i < n; i++ {
				postOK(b, nd)
			}
		},
	},
}

func askOK(b *testing.B, h *host.Host, ref abi.Ref, method string, payload []byte) {
	if _, err := h.Ask(context.Background(), ref, method, payload); err != nil {
		b.Fatal(err)
	}
}

func postOK(b *testing.B, nd *node) {
	resp, err := nd.srv.Client().Post(nd.srv.URL+"/v1/actors/counter/h/add", "application/json", bytes.NewReader(addJSON))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkOverhead measures what metrics cost on the message path and
// the HTTP path: two nodes, one with metrics off and one with them on,
// run the same operations in interleaved chunks (off, on, on, off, ...)
// so that both see the same state of the machine. It reports the time of
// an operation on each, and on/off: the median over the rounds of the
// ratio of the two chunks of a round (1.03: metrics cost 3%), which a
// burst of load on a shared machine moves less than the totals. ns/op is
// the sum of the two. cpu-on/off is the ratio of the processor time the
// process used during the chunks of each (the other node idles then),
// which the machine's other load moves less than time. Each path runs twice: off-vs-on, and off-vs-off,
// whose on/off shows the noise of the machine (on a quiet one, 1.00).
func BenchmarkOverhead(b *testing.B) {
	for _, p := range paths {
		// off-vs-off is the noise floor: two nodes with metrics off, so
		// on/off shows what the machine alone makes of the same work.
		for _, pair := range []struct {
			name string
			on   bool
		}{{"off-vs-off", false}, {"off-vs-on", true}} {
			b.Run(p.name+"/"+pair.name, func(b *testing.B) {
				measure(b, p, [2]*node{newNode(b, false), newNode(b, pair.on)})
			})
		}
	}
}

// measure runs p on the two nodes, interleaved, and reports their times
// and the median ratio of the second to the first.
func measure(b *testing.B, p overhead, nodes [2]*node) {
	for _, nd := range nodes {
		p.prepare(b, nd)
		p.run(b, nd, 100) // warm up: instances, connections, series
	}
	chunk := max(b.N/rounds, 1)
	var took, cpu [2]time.Duration
	var ratios []float64
	b.ResetTimer()
	for round, done := 0, 0; done < b.N; round, done = round+1, done+chunk {
		n := min(chunk, b.N-done)
		var t, c [2]time.Duration
		for j := range nodes {
			i := j ^ round&1 // off first, then on first: neither always follows the other
			start, startCPU := time.Now(), cputime.Process()
			p.run(b, nodes[i], n)
			t[i], c[i] = time.Since(start), cputime.Process()-startCPU
			took[i] += t[i]
			cpu[i] += c[i]
		}
		ratios = append(ratios, float64(t[1])/float64(t[0]))
	}
	b.StopTimer()
	b.ReportMetric(float64(took[0].Nanoseconds())/float64(b.N), "off-ns/op")
	b.ReportMetric(float64(took[1].Nanoseconds())/float64(b.N), "on-ns/op")
	b.ReportMetric(median(ratios), "on/off")
	if cpu[0] > 0 {
		b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-on/off")
	}
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

// BenchmarkObserveTurn is what metrics add to an ask that commits, as
// the host reports it: the turn, its commit and the client's send.
func BenchmarkObserveTurn(b *testing.B) {
	m := metrics.New(metrics.Options{})
	for b.Loop() {
		m.Sent("", host.KindAsk, 1)
		m.TurnDone("counter", "add", host.KindAsk, host.OutcomeOK, 5*time.Microsecond)
		m.Committed(1, 3*time.Microsecond, nil)
	}
}

// BenchmarkObserveRequest is what metrics add to an HTTP request.
func BenchmarkObserveRequest(b *testing.B) {
	m := metrics.New(metrics.Options{})
	for b.Loop() {
		m.RequestDone("POST /v1/actors/{type}/{id}/{method}", 200, 50*time.Microsecond)
	}
}
