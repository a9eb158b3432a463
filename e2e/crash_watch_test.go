package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestCrashWatchersExactlyOnce has lobbies watch players (examples/wasm/
// lobby) while concurrent clients make the players quit (a turn that asks
// to be deactivated), each quit retried with its Idempotency-Key until it
// gets an answer, and the server is killed with SIGKILL at random moments
// and restarted. The lifecycle messages of a requested deactivation commit
// with the turn that requested it: once the server answered a quit, its
// watchers are told, after any number of crashes, exactly once. At the
// end every lobby counted as many departures as its players counted quits.
func TestCrashWatchersExactlyOnce(t *testing.T) {
	const lobbies, players, clients = 4, 50, 8
	quits, kills := sized(600, 5000), sized(2, 5)
	c := startCrashRun(t, lobbyApp(t))
	for l := range lobbies {
		for p := range players {
			path := fmt.Sprintf("/v1/actors/lobby/%d/join", l)
			body := fmt.Sprintf(`{"player":"player/%d"}`, p)
			if status, reply := c.post(path, body, fmt.Sprintf("join-%d-%d", l, p)); status != http.StatusOK {
				t.Fatalf("lobby %d joining player %d: %d %s", l, p, status, reply)
			}
		}
	}

	killed, _ := c.load(clients, int64(quits), kills, func(i int64) bool {
		path := "/v1/actors/player/" + strconv.Itoa(rand.IntN(players)) + "/quit"
		if status, reply := c.post(path, "", "quit-"+strconv.FormatInt(i, 10)); status != http.StatusOK {
			t.Errorf("quit %d: %d %s", i, status, reply)
			return false
		}
		return true
	})
	if t.Failed() {
		return
	}

	var total int64
	for p := range players {
		var q struct{ Quits int64 }
		c.read("/v1/actors/player/"+strconv.Itoa(p)+"/quits", &q)
		total += q.Quits
	}
	departures := make([]int64, lobbies)
	c.settle(func() bool {
		settled := true
		for l := range lobbies {
			var s struct{ Members, Departures int64 }
			c.read("/v1/actors/lobby/"+strconv.Itoa(l)+"/stats", &s)
			departures[l] = s.Departures
			settled = settled && s.Departures >= total
		}
		return settled
	})
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
	c.srv.stop(syscall.SIGTERM)
}
