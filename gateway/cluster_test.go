package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wactor/wactor/gateway"
)

// fakeCluster reports a fixed status.
type fakeCluster struct{ st gateway.ClusterStatus }

func (f fakeCluster) ClusterStatus() gateway.ClusterStatus { return f.st }

func TestClusterStatus(t *testing.T) {
	get := func(g *gateway.Gateway) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/cluster", nil))
		return rec
	}
	// Alone: a clear "not a cluster", answered while starting too.
	g := gateway.New(theHost(t), gateway.Config{Logger: testLogger(t)})
	rec := get(g)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"clustered":false,"members":[]}`, rec.Body.String())

	at := time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)
	g = gateway.New(theHost(t), gateway.Config{Logger: testLogger(t), Cluster: fakeCluster{gateway.ClusterStatus{Name: "demo", Node: "n2",
		ListedAt: at.Add(2 * time.Second), Stale: true,
		Members: []gateway.ClusterMember{
			{Node: "n1", State: "active", HTTPAddr: "127.0.0.1:8081", Activations: 4, Started: at, Updated: at.Add(time.Second)},
			{Node: "n2", State: "joining", HTTPAddr: "127.0.0.1:8082", Self: true, Started: at, Updated: at},
		}}}})
	rec = get(g)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"clustered":true,"name":"demo","node":"n2","listed_at":"2026-12-07T01:02:05Z","stale":true,"members":[
		{"node":"n1","state":"active","http_addr":"127.0.0.1:8081","activations":4,"self":false,"started":"2026-12-07T01:02:03Z","updated":"2026-12-07T01:02:04Z"},
		{"node":"n2","state":"joining","http_addr":"127.0.0.1:8082","activations":0,"self":true,"started":"2026-12-07T01:02:03Z","updated":"2026-12-07T01:02:03Z"}]}`, rec.Body.String())
}
