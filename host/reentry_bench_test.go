package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/scheduler"
)

// BenchmarkReentrantNested is the cost of a nested call: a client asks
// re/a, whose turn asks plain/b, whose turn asks a get back: of re/a
// ("nested", run nested in re/a's waiting turn), or of plain/c ("chain",
// the same three turns with the last one a turn of its own, the
// baseline). C conformance actors; re is reentrant.
func BenchmarkReentrantNested(b *testing.B) {
	for _, c := range []struct{ name, last string }{{"chain", "plain/c"}, {"nested", "re/a"}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			h := benchHostConfig(b, testwasm.C, host.Config{Dispatch: scheduler.Goroutines})
			conf := testwasm.C(b, "conformance")
			for _, tc := range []host.TypeConfig{{Name: "re", Module: conf, Reentrant: true}, {Name: "plain", Module: conf}} {
				if err := h.Deploy(ctx, tc); err != nil {
					b.Fatal(err)
				}
			}
			payload, err := cbor.Marshal(map[string]any{"to": "plain/b", "method": "ask",
				"payload": map[string]any{"to": c.last, "method": "get", "payload": map[string]any{"key": "k"}}})
			if err != nil {
				b.Fatal(err)
			}
			ref := abi.Ref{Type: "re", ID: "a"}
			actx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if _, err := h.Ask(actx, ref, "ask", payload); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := h.Ask(actx, ref, "ask", payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
