package e2e

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPublishSubscribeCLI follows a topic with wactor subscribe, publishes
// to it with wactor publish and from an actor's turn, and checks that a
// subscribed actor heard both.
func TestPublishSubscribeCLI(t *testing.T) {
	a := newsApp(t)
	s := start(t, a)
	s.ask("/v1/actors/reader/1/follow", `{"topic":"news.cli"}`, `{}`)

	sub := exec.Command(wactorBin(t), "subscribe", "news.cli", "--count", "2", "--addr", s.url, "--timeout", "60s")
	sub.Env = environ()
	var out, errOut bytes.Buffer
	sub.Stdout, sub.Stderr = &out, &errOut
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	defer sub.Process.Kill()
	// The follower is registered once the stream answered; publish until
	// the subscriber has its two messages (the first ones may come before).
	done := make(chan error, 1)
	go func() { done <- sub.Wait() }()
	n := 0
	for deadline := time.Now().Add(30 * time.Second); ; {
		code, stdout, stderr := wactor(t, "publish", "news.cli", `{"n":`+strconv.Itoa(n)+`,"seq":1}`, "--addr", s.url)
		if code != 0 || strings.TrimSpace(stdout) != "accepted" {
			t.Fatalf("wactor publish: %d %q %q", code, stdout, stderr)
		}
		n++
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("wactor subscribe: %v\n%s", err, errOut.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("wactor subscribe printed %q", out.String())
			}
			for _, l := range lines {
				var ev struct {
					Topic   string
					Payload map[string]int
				}
				if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Topic != "news.cli" || ev.Payload["seq"] != 1 {
					t.Fatalf("event %q: %v", l, err)
				}
			}
			// The subscribed actor heard every publication.
			for deadline := time.Now().Add(10 * time.Second); ; {
				code, stdout, _ := wactor(t, "call", "reader/1", "read", "--addr", s.url)
				if code == 0 && strings.Contains(stdout, `"heard":`+strconv.Itoa(n)) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("reader/1 read %q after %d publications", stdout, n)
				}
				time.Sleep(20 * time.Millisecond)
			}
			s.stop(syscall.SIGTERM)
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) || n >= 9 {
			t.Fatalf("wactor subscribe got %q after %d publications; stderr %q", out.String(), n, errOut.String())
		}
	}
}
