package metrics_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/host"
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
	rounds = 10  // chunks of each side, interleaved
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
		prepare: func(b *testing.B, nd *node) { askOK(b, nd.h, abi.Ref{Type: "counter", ID: "a"}, getPayload) },
		run: func(b *testing.B, nd *node, n int) {
			ref := abi.Ref{Type: "counter", ID: "a"}
			for i := 0; i < n; i++ {
				askOK(b, nd.h, ref, addPayload)
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
				askOK(b, nd.h, abi.Ref{Type: "counter", ID: strconv.Itoa(i)}, getPayload)
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
				askOK(b, nd.h, abi.Ref{Type: "counter", ID: strconv.Itoa(i)}, getPayload)
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

func askOK(b *testing.B, h *host.Host, ref abi.Ref, payload []byte) {
	if _, err := h.Ask(context.Background(), ref, "add", payload); err != nil {
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
// run the same operations in interleaved chunks (off, on, off, on, ...)
// so that both see the same state of the machine. It reports the time of
// an operation on each and their ratio, on/off: 1.03 means metrics cost
// 3%. ns/op is the sum of the two.
func BenchmarkOverhead(b *testing.B) {
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			nodes := [2]*node{newNode(b, false), newNode(b, true)}
			for _, nd := range nodes {
				p.prepare(b, nd)
				p.run(b, nd, 100) // warm up: instances, connections, series
			}
			chunk := max(b.N/rounds, 1)
			var took [2]time.Duration
			b.ResetTimer()
			for done := 0; done < b.N; done += chunk {
				n := min(chunk, b.N-done)
				for i, nd := range nodes {
					start := time.Now()
					p.run(b, nd, n)
					took[i] += time.Since(start)
				}
			}
			b.StopTimer()
			off := float64(took[0].Nanoseconds()) / float64(b.N)
			on := float64(took[1].Nanoseconds()) / float64(b.N)
			b.ReportMetric(off, "off-ns/op")
			b.ReportMetric(on, "on-ns/op")
			b.ReportMetric(on/off, "on/off")
		})
	}
}
