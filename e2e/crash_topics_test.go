package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"syscall"
	"testing"
)

// TestCrashSubscribersExactlyOnce has readers subscribe to a topic and
// announcers publish to it from their turns (examples/wasm/lobby), each
// announce asked with its Idempotency-Key until it is answered, while the
// server is killed with SIGKILL at random moments and restarted. A
// publication commits with its turn and is fanned out through the outbox,
// a page of subscribers per commit with a cursor: at the end every reader
// heard every acknowledged announcement exactly once, and each announcer's
// in the order it made them.
func TestCrashSubscribersExactlyOnce(t *testing.T) {
	const announcers, readers, clients = 4, 20, 8
	announces, kills := sized(400, 3000), sized(2, 5)
	c := startCrashRun(t, newsApp(t))
	for r := range readers {
		if status, reply := c.post("/v1/actors/reader/"+strconv.Itoa(r)+"/follow", `{"topic":"news"}`, "follow-"+strconv.Itoa(r)); status != http.StatusOK {
			t.Fatalf("reader %d following: %d %s", r, status, reply)
		}
	}

	killed, done := c.load(clients, int64(announces), kills, func(i int64) bool {
		path := "/v1/actors/announcer/" + strconv.Itoa(rand.IntN(announcers)) + "/announce"
		body := fmt.Sprintf(`{"topic":"news","n":%d}`, i)
		if status, reply := c.post(path, body, "announce-"+strconv.FormatInt(i, 10)); status != http.StatusOK {
			t.Errorf("announce %d: %d %s", i, status, reply)
			return false
		}
		return true
	})
	if t.Failed() {
		return
	}

	type read struct{ Heard, Twice, Disorder int64 }
	got := make([]read, readers)
	c.settle(func() bool {
		all := true
		for r := range readers {
			c.read("/v1/actors/reader/"+strconv.Itoa(r)+"/read", &got[r])
			all = all && got[r].Heard >= done
		}
		return all
	})
	report := fmt.Sprintf("topics crash test: %d announcers, %d readers, %d announcements acknowledged from %d clients, %d kills (SIGKILL); heard by each reader: %v",
		announcers, readers, done, clients, killed, got)
	t.Log(report)
	fmt.Println(report)
	if killed < kills {
		t.Errorf("killed the server %d times, want %d", killed, kills)
	}
	for r, g := range got {
		if g.Heard != done || g.Twice != 0 || g.Disorder != 0 {
			t.Errorf("reader %d heard %d announcements (%d twice, %d out of order), want each of the %d exactly once, in order",
				r, g.Heard, g.Twice, g.Disorder, done)
		}
	}
	c.srv.stop(syscall.SIGTERM)
}
