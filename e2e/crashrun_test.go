package e2e

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// durableApp writes the Go example guest as each of types and a manifest
// with badger storage synced on every commit.
func durableApp(t *testing.T, guest string, types ...string) *app {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, guest+".wasm"), testwasm.Go(t, guest))
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	var m strings.Builder
	m.WriteString("version: 1\nstorage:\n  kind: badger\n  sync: true\nactors:\n")
	for _, typ := range types {
		m.WriteString("  - type: " + typ + "\n    module: " + guest + ".wasm\n    ask_timeout: 30s\n")
	}
	write(t, a.manifest, []byte(m.String()))
	return a
}

// lobbyApp is the lobby example as the types "lobby" and "player".
func lobbyApp(t *testing.T) *app { return durableApp(t, "lobby", "lobby", "player") }

// newsApp is the lobby example as the types "announcer" and "reader".
func newsApp(t *testing.T) *app { return durableApp(t, "lobby", "announcer", "reader") }

// crashRun is a crash test's server, which it kills and restarts, and a
// client that retries each call through the restarts until deadline.
type crashRun struct {
	t        *testing.T
	a        *app
	srv      *server
	live     *liveServer
	client   *http.Client
	deadline time.Time
}

func startCrashRun(t *testing.T, a *app) *crashRun {
	srv := start(t, a)
	return &crashRun{t: t, a: a, srv: srv, live: &liveServer{url: srv.url},
		client: &http.Client{Timeout: callTimeout}, deadline: time.Now().Add(crashDeadline)}
}

// post posts body to path with the Idempotency-Key key ("" for none),
// retrying until it gets a definite answer (retryPost).
func (c *crashRun) post(path, body, key string) (int, string) {
	return retryPost(c.t, c.client, c.live, c.deadline, path, body, key)
}

// read posts nothing to path and decodes its 200 answer into v, failing
// the test otherwise.
func (c *crashRun) read(path string, v any) {
	c.t.Helper()
	if status, reply := c.post(path, "", ""); status != http.StatusOK || json.Unmarshal([]byte(reply), v) != nil {
		c.t.Fatalf("%s: %d %s", path, status, reply)
	}
}

// load calls op with 1, 2, ... total from clients goroutines (runClients)
// while it kills the server kills times (killDuring), and returns the
// kills made and how many calls succeeded.
func (c *crashRun) load(clients int, total int64, kills int, op func(i int64) bool) (killed int, done int64) {
	var n atomic.Int64
	wait := runClients(c.t, clients, total, &n, op)
	killed = killDuring(c.t, c.a, &c.srv, c.live, kills, total, &n, c.deadline)
	wait()
	return killed, n.Load()
}

// settle calls check every 50 ms until it reports true or the deadline
// passes: what is still in the outbox after the last restart is delivered.
func (c *crashRun) settle(check func() bool) {
	for !check() && time.Now().Before(c.deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// killDuring kills the server with SIGKILL kills times at random moments
// spread over a run of total operations (the k-th once a random share of
// its slot of done has passed), restarting it each time and pointing live
// at the new one. It returns how many kills it made: fewer when the run
// ends first.
func killDuring(t *testing.T, a *app, srv **server, live *liveServer, kills int, total int64, done *atomic.Int64, deadline time.Time) int {
	killed := 0
	for k := 0; k < kills && !t.Failed(); k++ {
		slot := float64(total) / float64(kills+1)
		at := int64(slot*float64(k) + slot*(0.5+rand.Float64()))
		for done.Load() < at && done.Load() < total && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if done.Load() >= total {
			break
		}
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond) // land anywhere in a turn
		(*srv).kill()
		killed++
		*srv = start(t, a)
		live.set((*srv).url)
	}
	return killed
}

// runClients runs clients goroutines that call op with 1, 2, ... total
// (each number once) until op fails or the test does, counting the
// successes in done. The returned function waits for them.
func runClients(t *testing.T, clients int, total int64, done *atomic.Int64, op func(i int64) bool) (wait func()) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total || t.Failed() || !op(i) {
					return
				}
				done.Add(1)
			}
		}()
	}
	return wg.Wait
}
