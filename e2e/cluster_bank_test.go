package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// bankCluster sizes the cluster bank test: make test runs the short one,
// make clustertest the full one.
type bankCluster struct {
	accounts, transfers, clients, kills int
	limit                               time.Duration // bounds the whole test
}

func bankClusterSize() bankCluster {
	if clusterFull() {
		return bankCluster{accounts: 60, transfers: 3000, clients: 12, kills: 2, limit: 10 * time.Minute}
	}
	return bankCluster{accounts: 30, transfers: 600, clients: 12, kills: 2, limit: 4 * time.Minute}
}

// bankActors is the manifest's actors section of the bank.
const bankActors = "  - type: account\n    module: bank.wasm\n    ask_timeout: 30s\n"

// transferDone is a transfer that got a definite answer.
type transferDone struct {
	key      string
	from, to int
	amount   int64
	ok       bool     // 200; otherwise refused (insufficient_funds)
	failed   []string // the attempts before, without a definite answer
}

// TestClusterBankKillRestart moves money between accounts through the
// three gateways of a three-node cluster, every transfer with its own
// Idempotency-Key, while one node is killed (SIGKILL) and restarted,
// twice. A client whose gateway cannot answer definitely (it is down, or
// says 503 or 504) tries the next one with the same key, as behind a load
// balancer. At the end no money was created or lost, and each account's
// balance, transfers sent and credits received are exactly those of the
// transfers acknowledged with 200: each applied once.
func TestClusterBankKillRestart(t *testing.T) {
	cfg := bankClusterSize()
	started := time.Now()
	deadline := started.Add(cfg.limit)
	c := newTestCluster(t, clusterOpts{leaseTTL: time.Second, nodes: 3, actors: bankActors,
		files: map[string][]byte{"bank.wasm": testwasm.Go(t, "bank")}})
	t.Logf("3 nodes ready in %s", time.Since(started).Round(time.Millisecond))
	cc := c.client(deadline)

	for i := range cfg.accounts {
		status, reply, _, err := cc.post(i, "/v1/actors/account/"+strconv.Itoa(i)+"/deposit",
			`{"amount":`+strconv.Itoa(initialBalance)+`}`, "fund-"+strconv.Itoa(i))
		if err != nil || status != http.StatusOK {
			t.Fatalf("funding account %d: %d %s %v", i, status, reply, err)
		}
	}

	var (
		next, answered, retried atomic.Int64
		mu                      sync.Mutex
		done                    []transferDone
		wg                      sync.WaitGroup
		// limit is the last transfer the clients may start: it holds
		// them at each kill point until the kill is made, so that the
		// run cannot end before its kills (the other nodes may serve
		// the rest while the victim restarts).
		limit atomic.Int64
	)
	// The kills land at random moments spread over the run.
	slot := float64(cfg.transfers) / float64(cfg.kills+1)
	killAt := make([]int64, cfg.kills)
	for k := range killAt {
		killAt[k] = int64(slot*float64(k) + slot*(0.5+0.5*rand.Float64()))
	}
	gate := func(k int) int64 { // the limit until kill k is made
		if k >= len(killAt) {
			return int64(cfg.transfers)
		}
		return killAt[k] + int64(cfg.clients)
	}
	limit.Store(gate(0))
	t.Cleanup(func() { cc.closed.Store(true); wg.Wait() }) // before the processes are killed
	for range cfg.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > cfg.transfers || t.Failed() {
					return
				}
				for int64(i) > limit.Load() && !t.Failed() && !cc.closed.Load() && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				from := rand.IntN(cfg.accounts)
				to := (from + 1 + rand.IntN(cfg.accounts-1)) % cfg.accounts
				amount := int64(1 + rand.IntN(100))
				key := "transfer-" + strconv.Itoa(i)
				status, reply, failed, err := cc.post(i, "/v1/actors/account/"+strconv.Itoa(from)+"/transfer",
					fmt.Sprintf(`{"to":"%d","amount":%d}`, to, amount), key)
				if len(failed) > 0 {
					retried.Add(1)
				}
				d := transferDone{key: key, from: from, to: to, amount: amount, failed: failed}
				switch {
				case cc.closed.Load():
					return
				case err != nil:
					t.Errorf("transfer %d: %v", i, err)
					return
				case status == http.StatusOK:
					d.ok = true
				case status == http.StatusUnprocessableEntity && strings.Contains(reply, "insufficient_funds"):
				default:
					t.Errorf("transfer %d through n%d: %d %s", i, i%3+1, status, reply)
					return
				}
				mu.Lock()
				done = append(done, d)
				mu.Unlock()
				answered.Add(1)
			}
		}()
	}

	// Kill the same node at random moments spread over the run, and
	// start it again once the others have served a few transfers
	// without it.
	victim := c.nodes[1]
	kills := 0
	var downFor []time.Duration
	for k, at := range killAt {
		waitFor(t, deadline, func() bool { return answered.Load() >= at || t.Failed() })
		if t.Failed() || answered.Load() >= int64(cfg.transfers) {
			break
		}
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond) // land anywhere in a turn
		c.kill(victim)
		killed := time.Now()
		kills++
		limit.Store(gate(k + 1))
		resumeAt := answered.Load() + int64(cfg.transfers/20)
		waitFor(t, deadline, func() bool { return answered.Load() >= resumeAt || t.Failed() || next.Load() > int64(cfg.transfers) })
		c.restart(victim)
		downFor = append(downFor, time.Since(killed).Round(time.Millisecond))
	}
	limit.Store(int64(cfg.transfers))
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d transfers answered %s after the start", answered.Load(), time.Since(started).Round(time.Millisecond))

	// Expected books from the acknowledged transfers alone.
	want := make([]struct{ balance, sent, received int64 }, cfg.accounts)
	var ok200, refused int64
	for i := range want {
		want[i].balance = initialBalance
	}
	for _, d := range done {
		if !d.ok {
			refused++
			continue
		}
		ok200++
		want[d.from].balance -= d.amount
		want[d.from].sent++
		want[d.to].balance += d.amount
		want[d.to].received++
	}

	// Credits still in outboxes are delivered after the last restart:
	// wait, bounded (bankSettle), until every account's books are as
	// expected.
	type statement struct{ Balance, Sent, Received int64 }
	got := make([]statement, cfg.accounts)
	var balanced time.Duration
	settle := time.Now()
	cc = c.client(settle.Add(bankSettle + callTimeout))
	for {
		same := true
		for i := range got {
			status, reply, _, err := cc.post(i, "/v1/actors/account/"+strconv.Itoa(i)+"/balance", "", "")
			if err != nil || status != http.StatusOK || json.Unmarshal([]byte(reply), &got[i]) != nil {
				t.Fatalf("balance of %d: %d %s %v", i, status, reply, err)
			}
			w := want[i]
			same = same && got[i] == statement{w.balance, w.sent, w.received}
		}
		if same || time.Since(settle) > bankSettle {
			balanced = time.Since(settle)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var sum int64
	for i, g := range got {
		sum += g.Balance
		w := want[i]
		if g != (statement{w.balance, w.sent, w.received}) {
			t.Errorf("account %d: balance %d, sent %d, received %d; the acknowledged transfers make %d, %d, %d",
				i, g.Balance, g.Sent, g.Received, w.balance, w.sent, w.received)
			for _, d := range done {
				if (d.from == i || d.to == i) && len(d.failed) > 0 {
					t.Logf("  %s, %d -> %d, %d, ok %v, retried after: %s", d.key, d.from, d.to, d.amount, d.ok, strings.Join(d.failed, " | "))
				}
			}
		}
	}
	report := fmt.Sprintf("cluster bank: 3 nodes, %d accounts, %d transfers from %d clients through 3 gateways, "+
		"node n2 killed (SIGKILL) and restarted %d times (down %v); acknowledged 200: %d, refused insufficient_funds: %d, "+
		"retried on another gateway: %d; total balance %d, expected %d; books settled %s after the last answer; took %s",
		cfg.accounts, cfg.transfers, cfg.clients, kills, downFor, ok200, refused, retried.Load(), sum,
		cfg.accounts*initialBalance, balanced.Round(time.Millisecond), time.Since(started).Round(time.Second))
	t.Log(report)
	if kills < cfg.kills {
		t.Errorf("killed n2 %d times, want %d", kills, cfg.kills)
	}
	if sum != int64(cfg.accounts*initialBalance) {
		t.Errorf("total balance %d, want %d: money was created or lost", sum, cfg.accounts*initialBalance)
	}
}

// bankSettle bounds the wait, after the last transfer's answer, for the
// credits still in outboxes to be delivered.
const bankSettle = 30 * time.Second

// waitFor polls cond every 5ms until it holds or deadline passes (then
// the test fails).
func waitFor(t *testing.T, deadline time.Time, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the test's deadline passed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
