package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// crashConfig sizes the crash test. `make crashtest` runs the full size
// (WACTOR_CRASHTEST=full); `make test` runs the short one.
type crashConfig struct {
	accounts, transfers, clients, kills int
}

func crashSize() crashConfig {
	return crashConfig{accounts: 100, transfers: sized(2000, 20000), clients: 16, kills: sized(2, 5)}
}

// sized returns full under `make crashtest` (WACTOR_CRASHTEST=full), else
// short.
func sized(short, full int) int {
	if os.Getenv("WACTOR_CRASHTEST") == "full" {
		return full
	}
	return short
}

const (
	initialBalance = 1000
	crashDeadline  = 15 * time.Minute // bounds the whole test
)

// liveServer is the server the clients talk to; the killer replaces it.
type liveServer struct {
	mu  sync.Mutex
	url string
}

func (l *liveServer) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.url
}

func (l *liveServer) set(url string) {
	l.mu.Lock()
	l.url = url
	l.mu.Unlock()
}

// TestCrashExactlyOnce moves money between bank accounts from concurrent
// clients while the server is killed with SIGKILL at random moments and
// restarted. Every client retries with its transfer's Idempotency-Key until
// it gets a definite answer. At the end no money was created or lost and
// every transfer acknowledged with 200 was applied exactly once.
func TestCrashExactlyOnce(t *testing.T) {
	cfg := crashSize()
	deadline := time.Now().Add(crashDeadline)
	a := durableApp(t, "bank", "account")
	srv := start(t, a)
	live := &liveServer{url: srv.url}
	client := &http.Client{Timeout: callTimeout}

	for i := 0; i < cfg.accounts; i++ {
		body := `{"amount":` + strconv.Itoa(initialBalance) + `}`
		if status, reply := retryPost(t, client, live, deadline, "/v1/actors/account/"+strconv.Itoa(i)+"/deposit", body, "fund-"+strconv.Itoa(i)); status != http.StatusOK {
			t.Fatalf("funding account %d: %d %s", i, status, reply)
		}
	}

	var next, done, ok200, refused atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < cfg.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(cfg.transfers) || t.Failed() {
					return
				}
				from := rand.IntN(cfg.accounts)
				to := (from + 1 + rand.IntN(cfg.accounts-1)) % cfg.accounts
				body := fmt.Sprintf(`{"to":"%d","amount":%d}`, to, 1+rand.IntN(100))
				status, reply := retryPost(t, client, live, deadline, "/v1/actors/account/"+strconv.Itoa(from)+"/transfer", body, "transfer-"+strconv.FormatInt(i, 10))
				switch {
				case status == http.StatusOK:
					ok200.Add(1)
				case status == http.StatusUnprocessableEntity && strings.Contains(reply, "insufficient_funds"):
					refused.Add(1)
				default:
					t.Errorf("transfer %d: %d %s", i, status, reply)
					return
				}
				done.Add(1)
			}
		}()
	}

	// Kill at random moments spread over the run.
	kills := killDuring(t, a, &srv, live, cfg.kills, int64(cfg.transfers), &done, deadline)
	wg.Wait()
	if t.Failed() {
		return
	}

	// Credits still in outboxes are delivered after the last restart; wait
	// until the books balance.
	var sum, sent, received int64
	for {
		sum, sent, received = 0, 0, 0
		for i := 0; i < cfg.accounts; i++ {
			status, reply := retryPost(t, client, live, deadline, "/v1/actors/account/"+strconv.Itoa(i)+"/balance", "", "")
			var b struct{ Balance, Sent, Received int64 }
			if status != http.StatusOK || json.Unmarshal([]byte(reply), &b) != nil {
				t.Fatalf("balance of %d: %d %s", i, status, reply)
			}
			sum, sent, received = sum+b.Balance, sent+b.Sent, received+b.Received
		}
		if sum == int64(cfg.accounts*initialBalance) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	report := fmt.Sprintf("crash test: %d accounts, %d transfers from %d clients, %d kills (SIGKILL); "+
		"acknowledged 200: %d, refused insufficient_funds: %d; applied (sent): %d, credited (received): %d; "+
		"total balance %d, expected %d",
		cfg.accounts, cfg.transfers, cfg.clients, kills, ok200.Load(), refused.Load(), sent, received,
		sum, cfg.accounts*initialBalance)
	t.Log(report)
	fmt.Println(report)
	if kills < cfg.kills {
		t.Errorf("killed the server %d times, want %d", kills, cfg.kills)
	}
	if sum != int64(cfg.accounts*initialBalance) {
		t.Errorf("total balance %d, want %d: money was created or lost", sum, cfg.accounts*initialBalance)
	}
	if sent != ok200.Load() || received != sent {
		t.Errorf("applied %d transfers and %d credits, acknowledged %d: want all equal", sent, received, ok200.Load())
	}
	srv.stop(syscall.SIGTERM)
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.t.Fatalf("wactor did not die within %s of SIGKILL", stopTimeout)
	}
}

// retryPost posts until it gets a definite answer: it retries connection
// errors (the server is down or restarting), 503 and 504 (the outcome is
// unknown; the idempotency key makes a retry safe) and 429, with backoff.
func retryPost(t *testing.T, client *http.Client, live *liveServer, deadline time.Time, path, body, key string) (int, string) {
	backoff := 5 * time.Millisecond
	for {
		req, err := http.NewRequest(http.MethodPost, live.get()+path, strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := client.Do(req)
		if err == nil {
			reply, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case rerr != nil:
			case resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout,
				resp.StatusCode == http.StatusTooManyRequests:
			default:
				return resp.StatusCode, string(reply)
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("POST %s: no definite answer before the deadline (last error: %v)", path, err)
			return 0, ""
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}
