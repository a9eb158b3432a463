package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// topicsCrashSize sizes the subscribers' crash test like crashSize.
func topicsCrashSize() (announcers, readers, announces, clients, kills int) {
	if os.Getenv("WACTOR_CRASHTEST") == "full" {
		return 4, 20, 3000, 8, 5
	}
	return 4, 20, 400, 8, 2
}

// TestCrashSubscribersExactlyOnce has readers subscribe to a topic and
// announcers publish to it from their turns (examples/wasm/lobby), each
// announce asked with its Idempotency-Key until it is answered, while the
// server is killed with SIGKILL at random moments and restarted. A
// publication commits with its turn and is fanned out through the outbox,
// a page of subscribers per commit with a cursor: at the end every reader
// heard every acknowledged announcement exactly once, and each announcer's
// in the order it made them.
func TestCrashSubscribersExactlyOnce(t *testing.T) {
	announcers, readers, announces, clients, kills := topicsCrashSize()
	deadline := time.Now().Add(crashDeadline)
	a := newsApp(t)
	srv := start(t, a)
	live := &liveServer{url: srv.url}
	client := &http.Client{Timeout: callTimeout}
	for r := range readers {
		if status, reply := retryPost(t, client, live, deadline, "/v1/actors/reader/"+strconv.Itoa(r)+"/follow", `{"topic":"news"}`, "follow-"+strconv.Itoa(r)); status != http.StatusOK {
			t.Fatalf("reader %d following: %d %s", r, status, reply)
		}
	}

	var done atomic.Int64
	wait := runClients(t, clients, int64(announces), &done, func(i int64) bool {
		path := "/v1/actors/announcer/" + strconv.Itoa(rand.IntN(announcers)) + "/announce"
		body := fmt.Sprintf(`{"topic":"news","n":%d}`, i)
		if status, reply := retryPost(t, client, live, deadline, path, body, "announce-"+strconv.FormatInt(i, 10)); status != http.StatusOK {
			t.Errorf("announce %d: %d %s", i, status, reply)
			return false
		}
		return true
	})
	killed := killDuring(t, a, &srv, live, kills, int64(announces), &done, deadline)
	wait()
	if t.Failed() {
		return
	}

	type read struct{ Heard, Twice, Disorder int64 }
	got := make([]read, readers)
	for {
		all := true
		for r := range readers {
			status, reply := retryPost(t, client, live, deadline, "/v1/actors/reader/"+strconv.Itoa(r)+"/read", "", "")
			if status != http.StatusOK || json.Unmarshal([]byte(reply), &got[r]) != nil {
				t.Fatalf("read of reader %d: %d %s", r, status, reply)
			}
			all = all && got[r].Heard >= done.Load()
		}
		if all || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	report := fmt.Sprintf("topics crash test: %d announcers, %d readers, %d announcements acknowledged from %d clients, %d kills (SIGKILL); heard by each reader: %v",
		announcers, readers, done.Load(), clients, killed, got)
	t.Log(report)
	fmt.Println(report)
	if killed < kills {
		t.Errorf("killed the server %d times, want %d", killed, kills)
	}
	for r, g := range got {
		if g.Heard != done.Load() || g.Twice != 0 || g.Disorder != 0 {
			t.Errorf("reader %d heard %d announcements (%d twice, %d out of order), want each of the %d exactly once, in order",
				r, g.Heard, g.Twice, g.Disorder, done.Load())
		}
	}
	srv.stop(syscall.SIGTERM)
}

// newsApp is lobbyApp with the types announcer and reader.
func newsApp(t *testing.T) *app {
	t.Helper()
	a := lobbyApp(t)
	write(t, a.manifest, []byte(`version: 1
storage:
  kind: badger
  sync: true
actors:
  - type: announcer
    module: lobby.wasm
    ask_timeout: 30s
  - type: reader
    module: lobby.wasm
    ask_timeout: 30s
`))
	return a
}
