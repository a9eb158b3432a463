package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// watchCrashSize sizes the watchers' crash test like crashSize.
func watchCrashSize() (lobbies, players, quits, clients, kills int) {
	if os.Getenv("WACTOR_CRASHTEST") == "full" {
		return 4, 50, 5000, 8, 5
	}
	return 4, 50, 600, 8, 2
}

// TestCrashWatchersExactlyOnce has lobbies watch players (examples/wasm/
// lobby) while concurrent clients make the players quit (a turn that asks
// to be deactivated), each quit retried with its Idempotency-Key until it
// gets an answer, and the server is killed with SIGKILL at random moments
// and restarted. The lifecycle messages of a requested deactivation commit
// with the turn that requested it: once the server answered a quit, its
// watchers are told, after any number of crashes, exactly once. At the
// end every lobby counted as many departures as its players counted quits.
func TestCrashWatchersExactlyOnce(t *testing.T) {
	lobbies, players, quits, clients, kills := watchCrashSize()
	deadline := time.Now().Add(crashDeadline)
	a := lobbyApp(t)
	srv := start(t, a)
	live := &liveServer{url: srv.url}
	client := &http.Client{Timeout: callTimeout}

	for l := range lobbies {
		for p := range players {
			path := fmt.Sprintf("/v1/actors/lobby/%d/join", l)
			body := fmt.Sprintf(`{"player":"player/%d"}`, p)
			if status, reply := retryPost(t, client, live, deadline, path, body, fmt.Sprintf("join-%d-%d", l, p)); status != http.StatusOK {
				t.Fatalf("lobby %d joining player %d: %d %s", l, p, status, reply)
			}
		}
	}

	var done atomic.Int64
	wait := runClients(t, clients, int64(quits), &done, func(i int64) bool {
		path := "/v1/actors/player/" + strconv.Itoa(rand.IntN(players)) + "/quit"
		if status, reply := retryPost(t, client, live, deadline, path, "", "quit-"+strconv.FormatInt(i, 10)); status != http.StatusOK {
			t.Errorf("quit %d: %d %s", i, status, reply)
			return false
		}
		return true
	})
	killed := killDuring(t, a, &srv, live, kills, int64(quits), &done, deadline)
	wait()
	if t.Failed() {
		return
	}

	var total int64
	for p := range players {
		status, reply := retryPost(t, client, live, deadline, "/v1/actors/player/"+strconv.Itoa(p)+"/quits", "", "")
		var q struct{ Quits int64 }
		if status != http.StatusOK || json.Unmarshal([]byte(reply), &q) != nil {
			t.Fatalf("quits of player %d: %d %s", p, status, reply)
		}
		total += q.Quits
	}
	// Lifecycle messages still in the outbox are delivered after the last
	// restart; wait until every lobby has them all (or the deadline).
	departures := make([]int64, lobbies)
	for {
		settled := true
		for l := range lobbies {
			status, reply := retryPost(t, client, live, deadline, "/v1/actors/lobby/"+strconv.Itoa(l)+"/stats", "", "")
			var s struct{ Members, Departures int64 }
			if status != http.StatusOK || json.Unmarshal([]byte(reply), &s) != nil {
				t.Fatalf("stats of lobby %d: %d %s", l, status, reply)
			}
			departures[l] = s.Departures
			settled = settled && s.Departures >= total
		}
		if settled || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // time for one too many
	report := fmt.Sprintf("watch crash test: %d lobbies watching %d players, %d quits from %d clients, %d kills (SIGKILL); "+
		"quits counted by the players: %d; departures counted by each lobby: %v", lobbies, players, quits, clients, killed, total, departures)
	t.Log(report)
	fmt.Println(report)
	if killed < kills {
		t.Errorf("killed the server %d times, want %d", killed, kills)
	}
	for l, d := range departures {
		if d != total {
			t.Errorf("lobby %d counted %d departures, its players %d quits: want each quit told exactly once", l, d, total)
		}
	}
	srv.stop(syscall.SIGTERM)
}

// lobbyApp writes the lobby example as the types "lobby" and "player" and a
// durable manifest.
func lobbyApp(t *testing.T) *app {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "lobby.wasm"), testwasm.Go(t, "lobby"))
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(`version: 1
storage:
  kind: badger
  sync: true
actors:
  - type: lobby
    module: lobby.wasm
    ask_timeout: 30s
  - type: player
    module: lobby.wasm
    ask_timeout: 30s
`))
	return a
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
