package metrics_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/metrics"
	"github.com/wactor/wactor/storage/memstore"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			println("goleak:", err.Error())
			code = 1
		}
	}
	os.Exit(code)
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// newHost starts a host observed by m, with types deployed, and has m
// watch it.
func newHost(t testing.TB, m *metrics.Metrics, types ...host.TypeConfig) *host.Host {
	t.Helper()
	ctx := context.Background()
	h, err := host.New(ctx, host.Config{Store: memstore.New(), CacheDir: testwasm.CacheDir(t), Observer: m,
		Logger: slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	require.NoError(t, err)
	for _, tc := range types {
		require.NoError(t, h.Deploy(ctx, tc))
	}
	require.NoError(t, h.Start(ctx))
	m.Watch(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(t, h.Close(ctx))
	})
	return h
}

func goType(t testing.TB, name string) host.TypeConfig {
	return host.TypeConfig{Name: name, Module: testwasm.Go(t, name), Source: name + ".wasm"}
}

func ask(t testing.TB, h *host.Host, ref, method string, payload any) error {
	t.Helper()
	r, err := abi.ParseRef(ref)
	require.NoError(t, err)
	var body []byte
	if payload != nil {
		body, err = cbor.Marshal(payload)
		require.NoError(t, err)
	}
	_, err = h.Ask(context.Background(), r, method, body)
	return err
}

// value returns the value of the series of family name whose labels are
// exactly labels (name=value pairs): a counter's or gauge's value, a
// histogram's sample count; 0 when there is no such series.
func value(t testing.TB, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(want) {
				continue
			}
			for _, l := range m.GetLabel() {
				if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
					continue series
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

// TestTurnsCounted drives real turns of real guests and checks that each
// metric moves as the turns say.
func TestTurnsCounted(t *testing.T) {
	m := metrics.New(metrics.Options{})
	reg := m.Registry()
	hostile := goType(t, "hostile")
	hostile.TurnTimeout = 300 * time.Millisecond
	h := newHost(t, m, goType(t, "counter"), hostile)

	for i := 0; i < 3; i++ {
		require.NoError(t, ask(t, h, "counter/a", "add", map[string]int{"n": 1}))
	}
	require.NoError(t, ask(t, h, "counter/a", "get", nil))
	assert.Equal(t, 3.0, value(t, reg, "wactor_turns_total", "type", "counter", "method", "add", "outcome", "ok"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_turns_total", "type", "counter", "method", "get", "outcome", "ok"))
	assert.Equal(t, 3.0, value(t, reg, "wactor_turn_duration_seconds", "type", "counter", "method", "add"))
	assert.Equal(t, 4.0, value(t, reg, "wactor_messages_received_total", "type", "counter", "kind", "ask"))
	assert.Equal(t, 4.0, value(t, reg, "wactor_messages_sent_total", "type", metrics.ClientSender, "kind", "ask"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_activations_created_total", "type", "counter"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_activations", "type", "counter"))
	assert.Equal(t, 0.0, value(t, reg, "wactor_activations", "type", "hostile"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_instance_start_seconds", "type", "counter"))
	assert.GreaterOrEqual(t, value(t, reg, "wactor_commit_duration_seconds"), 3.0, "three adds wrote state")
	assert.Equal(t, value(t, reg, "wactor_commit_duration_seconds"), value(t, reg, "wactor_commit_turns_total"), "one turn a commit")
	assert.Positive(t, value(t, reg, "wactor_guest_memory_bytes"))

	// A method the guest does not have is an error code of the runtime,
	// and gets no series of its own.
	err := ask(t, h, "counter/a", "nosuch", nil)
	require.ErrorIs(t, err, abi.ErrUnknownMethod)
	assert.Equal(t, 1.0, value(t, reg, "wactor_turns_total", "type", "counter", "method", metrics.OtherMethod, "outcome", "unknown_method"))

	// An actor's own error code is app_error; a trap and a runaway
	// guest are counted as turns and as guest failures.
	require.Error(t, ask(t, h, "hostile/x", "fail_after_write", map[string]string{"why": "test"}))
	assert.Equal(t, 1.0, value(t, reg, "wactor_turns_total", "type", "hostile", "method", "fail_after_write", "outcome", "app_error"))
	require.ErrorIs(t, ask(t, h, "hostile/x", "panic", nil), abi.ErrTrapped)
	assert.Equal(t, 1.0, value(t, reg, "wactor_turns_total", "type", "hostile", "method", "panic", "outcome", "trapped"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_guest_failures_total", "type", "hostile", "code", "trapped"))
	require.ErrorIs(t, ask(t, h, "hostile/y", "spin", nil), abi.ErrTurnTimeout)
	assert.Equal(t, 1.0, value(t, reg, "wactor_turns_total", "type", "hostile", "method", "spin", "outcome", "turn_timeout"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_guest_failures_total", "type", "hostile", "code", "turn_timeout"))

	// A tell an actor refuses goes to the dead letters at once; one it
	// takes sends a tell of its own, counted when its turn commits.
	ctx := context.Background()
	refused := cborOf(t, map[string]string{"why": "test"})
	require.NoError(t, h.Tell(ctx, abi.Ref{Type: "hostile", ID: "z"}, "fail_after_write", refused))
	require.NoError(t, h.Tell(ctx, abi.Ref{Type: "hostile", ID: "z"}, "tell",
		cborOf(t, map[string]any{"to": "counter/b", "method": "add", "payload": map[string]int{"n": 2}})))
	require.Eventually(t, func() bool {
		return value(t, reg, "wactor_turns_total", "type", "counter", "method", "add", "outcome", "ok") == 4
	}, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, 2.0, value(t, reg, "wactor_messages_sent_total", "type", metrics.ClientSender, "kind", "tell"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_messages_sent_total", "type", "hostile", "kind", "tell"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_messages_received_total", "type", "counter", "kind", "tell"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_dead_letters_total", "type", "hostile", "outcome", "kept"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_dead_letters"))

	// An actor that asks to go is deactivated for that reason.
	require.NoError(t, ask(t, h, "hostile/w", "deactivate", nil))
	require.Eventually(t, func() bool {
		return value(t, reg, "wactor_deactivations_total", "type", "hostile", "reason", "requested") == 1
	}, 10*time.Second, 5*time.Millisecond)

	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems, "the metrics break Prometheus conventions")
}

func cborOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestMethodLabelBounded: a client that calls a million distinct method
// names, or names no label should hold, makes at most MaxMethods series
// of a type, plus OtherMethod, however many goroutines race to add them.
func TestMethodLabelBounded(t *testing.T) {
	const maxMethods = 8
	m := metrics.New(metrics.Options{MaxMethods: maxMethods})
	reg := m.Registry()
	const workers, each = 8, 20_000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				m.TurnDone("counter", fmt.Sprintf("m%d-%d", w, i), host.KindAsk, host.OutcomeOK, time.Microsecond)
			}
		}()
	}
	for _, method := range []string{strings.Repeat("x", metrics.MaxMethodLen+1), "bad\xff", ""} {
		m.TurnDone("greeter", method, host.KindAsk, host.OutcomeOK, time.Microsecond)
	}
	m.TurnDone("greeter", "hello", host.KindAsk, "unknown_method", time.Microsecond)
	wg.Wait()

	n, err := testutil.GatherAndCount(reg, "wactor_turns_total")
	require.NoError(t, err)
	// counter: maxMethods methods and (other), all ok; greeter: (other),
	// ok and unknown_method.
	assert.Equal(t, maxMethods+3, n)
	n, err = testutil.GatherAndCount(reg, "wactor_turn_duration_seconds")
	require.NoError(t, err)
	assert.Equal(t, maxMethods+2, n)
	assert.Equal(t, float64(workers*each), value(t, reg, "wactor_messages_received_total", "type", "counter", "kind", "ask"))
	assert.Equal(t, 4.0, value(t, reg, "wactor_turn_duration_seconds", "type", "greeter", "method", metrics.OtherMethod))
	other := value(t, reg, "wactor_turns_total", "type", "counter", "method", metrics.OtherMethod, "outcome", "ok")
	assert.Equal(t, float64(workers*each-maxMethods), other, "every turn past the bound counts under %s", metrics.OtherMethod)
}

// TestMethodsOfRealTurnsBounded: a client calling many method names that
// the guest does not have leaves one series of the type.
func TestMethodsOfRealTurnsBounded(t *testing.T) {
	m := metrics.New(metrics.Options{})
	h := newHost(t, m, goType(t, "counter"))
	for i := 0; i < 300; i++ {
		require.ErrorIs(t, ask(t, h, "counter/a", fmt.Sprintf("nosuch%d", i), nil), abi.ErrUnknownMethod)
	}
	n, err := testutil.GatherAndCount(m.Registry(), "wactor_turns_total")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "(other) with outcomes ok (0) and unknown_method")
	assert.Equal(t, 300.0, value(t, m.Registry(), "wactor_turns_total", "type", "counter", "method", metrics.OtherMethod, "outcome", "unknown_method"))
}

// TestHTTPRequests counts requests by route pattern and status code.
func TestHTTPRequests(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.RequestDone("POST /v1/actors/{type}/{id}/{method}", 200, time.Millisecond)
	m.RequestDone("POST /v1/actors/{type}/{id}/{method}", 200, time.Millisecond)
	m.RequestDone("POST /v1/actors/{type}/{id}/{method}", 404, time.Millisecond)
	m.RequestDone("", 301, time.Millisecond)
	m.RequestDone("GET /healthz", 999, time.Millisecond)
	reg := m.Registry()
	assert.Equal(t, 2.0, value(t, reg, "wactor_http_requests_total", "route", "POST /v1/actors/{type}/{id}/{method}", "code", "200"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_http_requests_total", "route", "POST /v1/actors/{type}/{id}/{method}", "code", "404"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_http_requests_total", "route", metrics.OtherRoute, "code", "301"))
	assert.Equal(t, 1.0, value(t, reg, "wactor_http_requests_total", "route", "GET /healthz", "code", "other"))
	assert.Equal(t, 3.0, value(t, reg, "wactor_http_request_duration_seconds", "route", "POST /v1/actors/{type}/{id}/{method}"))
}
