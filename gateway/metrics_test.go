package gateway_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/gateway"
)

// requests records what the gateway reports of each request.
type requests struct {
	mu   sync.Mutex
	seen []string // "route status"
}

func (r *requests) RequestDone(route string, status int, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, route+" "+http.StatusText(status))
}

func (r *requests) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// TestMetricsNeedsToken: GET /metrics is a control route. Without the
// token it gets 401 and the handler is not reached; with it, the handler
// answers.
func TestMetricsNeedsToken(t *testing.T) {
	calls := 0
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("wactor_test_metric 1\n"))
	})
	srv, _ := serve(t, gateway.Config{Token: testToken, Metrics: handler})
	for _, h := range [][]string{nil, {"Authorization", "Bearer wrong-token-wrong-token-wrong-tok"}} {
		wantError(t, do(t, srv, http.MethodGet, "/metrics", nil, h...), http.StatusUnauthorized, "unauthorized")
	}
	assert.Equal(t, 0, calls, "a refused scrape reached the metrics handler")
	r := do(t, srv, http.MethodGet, "/metrics", nil, "Authorization", "Bearer "+testToken)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assert.Equal(t, "wactor_test_metric 1\n", string(r.body))
	assert.Equal(t, 1, calls)
}

// TestMetricsOff: without Config.Metrics, GET /metrics says metrics are
// off, still only to a client with the token.
func TestMetricsOff(t *testing.T) {
	srv, _ := serve(t, gateway.Config{Token: testToken})
	wantError(t, do(t, srv, http.MethodGet, "/metrics", nil), http.StatusUnauthorized, "unauthorized")
	msg := wantError(t, do(t, srv, http.MethodGet, "/metrics", nil, "Authorization", "Bearer "+testToken), http.StatusNotFound, "bad_request")
	assert.Contains(t, msg, "metrics are off")
}

// TestRequestObserver: every request is reported with its route pattern,
// never its raw path (which holds actor ids), and its status.
func TestRequestObserver(t *testing.T) {
	obs := &requests{}
	srv, _ := serve(t, gateway.Config{Observer: obs})
	ref := "counter/" + id(t)
	okJSON(t, post(t, srv, "/v1/actors/"+ref+"/add", `{"n":1}`))
	wantError(t, post(t, srv, "/v1/actors/nosuchtype/x/add", `{"n":1}`), http.StatusNotFound, "unknown_type")
	do(t, srv, http.MethodGet, "/healthz", nil)
	do(t, srv, http.MethodGet, "/no/such/"+id(t), nil)
	do(t, srv, http.MethodPut, "/v1/actors/"+ref+"/add", nil)
	assert.Equal(t, []string{
		"POST /v1/actors/{type}/{id}/{method} OK",
		"POST /v1/actors/{type}/{id}/{method} Not Found",
		"GET /healthz OK",
		"/ Not Found",
		"/v1/actors/{type}/{id}/{method} Method Not Allowed",
	}, obs.list())
}
