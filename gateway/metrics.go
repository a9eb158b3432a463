package gateway

import (
	"net/http"
	"time"

	"github.com/wactor/wactor/abi"
)

// RequestObserver is told of every request the gateway answers, for
// metrics (Config.Observer). It is called on the request's goroutine,
// after the answer: it must be cheap and must not block.
type RequestObserver interface {
	// RequestDone: a request matched route, the pattern of one of the
	// gateway's routes as docs/http.md lists them ("" when none did,
	// as for a redirect of the router), and got status, in took. Never
	// the raw path: the route set is small and fixed.
	RequestDone(route string, status int, took time.Duration)
}

// metrics serves GET /metrics with Config.Metrics, or answers 404 when
// metrics are off.
func (g *Gateway) metrics(w http.ResponseWriter, r *http.Request) {
	if g.metricsHandler == nil {
		g.fail(w, r, statusError(http.StatusNotFound, abi.CodeBadRequest,
			"metrics are off on this node: the manifest says metrics: {enabled: false}"))
		return
	}
	g.metricsHandler.ServeHTTP(w, r)
}
