package nodeproc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFreeAddrsDistinct(t *testing.T) {
	addrs, err := FreeAddrs(12)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		if !strings.HasPrefix(a, "127.0.0.1:") || seen[a] {
			t.Fatalf("addresses %v: want 12 distinct ones on 127.0.0.1", addrs)
		}
		seen[a] = true
	}
}

func TestClusterSection(t *testing.T) {
	got := ClusterSection("e2e", time.Second, []string{"127.0.0.1:1", "127.0.0.1:2"})
	want := "cluster:\n  name: e2e\n  lease_ttl: 1s\n  routes:\n    - nats-route://127.0.0.1:1\n    - nats-route://127.0.0.1:2\n"
	if got != want {
		t.Errorf("ClusterSection = %q, want %q", got, want)
	}
	if got := ClusterSection("bench", 0, nil); strings.Contains(got, "lease_ttl") {
		t.Errorf("ClusterSection without a TTL = %q: want no lease_ttl", got)
	}
}

func TestFlags(t *testing.T) {
	got := strings.Join(Node{Name: "n1", HTTP: "h", Client: "c", Route: "r"}.Flags(), " ")
	if want := "--http-addr h --node n1 --nats-addr c --nats-cluster-addr r"; got != want {
		t.Errorf("Flags = %q, want %q", got, want)
	}
}

// TestWaitReady: 503 until the third ask, then 200; an exited process and
// a deadline end the wait with what they are.
func TestWaitReady(t *testing.T) {
	var asks atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || asks.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := WaitReady(ctx, srv.URL, nil); err != nil || asks.Load() != 3 {
		t.Fatalf("WaitReady = %v after %d asks; want nil after 3", err, asks.Load())
	}

	never := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer never.Close()
	exited := make(chan struct{})
	close(exited)
	if err := WaitReady(ctx, never.URL, exited); !errors.Is(err, ErrExited) {
		t.Errorf("WaitReady with the process gone = %v; want ErrExited", err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if err := WaitReady(short, never.URL, nil); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "503") {
		t.Errorf("WaitReady past its deadline = %v; want the deadline, and the last answer 503", err)
	}
}
