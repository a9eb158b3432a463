package natsstore_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/natsstore"
	"github.com/wactor/wactor/storage/storagetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startServer starts a nats-server with JetStream on 127.0.0.1, on a port
// of its own, keeping its data in dir. It is shut down when t ends.
func startServer(t testing.TB, dir string, configure ...func(*server.Options)) *server.Server {
	t.Helper()
	s := newServer(t, dir, configure...)
	ready(t, s)
	return s
}

// newServer starts a server like startServer but does not wait for it.
func newServer(t testing.TB, dir string, configure ...func(*server.Options)) *server.Server {
	t.Helper()
	opts := &server.Options{
		ServerName: "wactor-test",
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
		// A state value may be as large as the conformance suite's 1 MiB.
		MaxPayload: 8 << 20,
	}
	for _, f := range configure {
		f(opts)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("nats-server: %v", err)
	}
	s.Start()
	t.Cleanup(func() { shutdown(s) })
	return s
}

func ready(t testing.TB, s *server.Server) {
	t.Helper()
	if !s.ReadyForConnections(20 * time.Second) {
		t.Fatal("nats-server did not start in 20 s")
	}
}

func shutdown(s *server.Server) {
	s.Shutdown()
	s.WaitForShutdown()
}

// connect connects to s; the connection is closed when t ends.
func connect(t testing.TB, urls string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(urls, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("connect %s: %v", urls, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// open opens a Store on stream over nc, closed when t ends.
func open(t testing.TB, nc *nats.Conn, stream string, configure ...func(*natsstore.Config)) *natsstore.Store {
	t.Helper()
	cfg := natsstore.DefaultConfig(nc)
	cfg.Stream = stream
	for _, f := range configure {
		f(&cfg)
	}
	s, err := natsstore.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var streams atomic.Int64

// freshStream names a stream no other test uses.
func freshStream() string { return fmt.Sprintf("T%d", streams.Add(1)) }

func TestConformance(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t, nc, freshStream()) })
}

func TestLeases(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	storagetest.RunLeases(t, func(t *testing.T) storage.Store { return open(t, nc, freshStream()) })
}

// TestReopen reopens a store on the same stream of a server that keeps
// running.
func TestReopen(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	var mu sync.Mutex
	names := make(map[string]string) // dir -> stream
	storagetest.RunReopen(t, func(t *testing.T, dir string) storage.Store {
		mu.Lock()
		name, ok := names[dir]
		if !ok {
			name = freshStream()
			names[dir] = name
		}
		mu.Unlock()
		return open(t, nc, name)
	})
}

// TestRestart restarts the server, on the same store directory, at every
// reopen: what was acknowledged survives the server's restart.
func TestRestart(t *testing.T) {
	servers := make(map[string]*server.Server) // dir -> the running server
	storagetest.RunReopen(t, func(t *testing.T, dir string) storage.Store {
		if s := servers[dir]; s != nil {
			shutdown(s)
		}
		s := startServer(t, dir)
		servers[dir] = s
		return open(t, connect(t, s.ClientURL()), "RESTART")
	})
}
