package gateway_test

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"

	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/storage/memstore"
)

// Serve a host over HTTP: deploy, start, mark ready, and on interrupt mark
// the gateway stopping before shutting the server and the host down.
func Example() {
	ctx := context.Background()
	h, err := host.New(ctx, host.Config{Store: memstore.New()})
	if err != nil {
		log.Fatal(err)
	}
	module, err := os.ReadFile("counter.wasm")
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Deploy(ctx, host.TypeConfig{Name: "counter", Module: module, Source: "counter.wasm"}); err != nil {
		log.Fatal(err)
	}
	if err := h.Start(ctx); err != nil {
		log.Fatal(err)
	}

	g := gateway.New(h, gateway.Config{Logger: slog.Default()})
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: g}
	go func() {
		stop, cancel := signal.NotifyContext(ctx, os.Interrupt)
		defer cancel()
		<-stop.Done()
		g.SetReady(false) // load balancers stop sending
		_ = srv.Shutdown(ctx)
	}()
	g.SetReady(true)
	// curl -X POST localhost:8080/v1/actors/counter/a/add -d '{"n":7}'
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	if err := h.Close(ctx); err != nil {
		log.Fatal(err)
	}
}
