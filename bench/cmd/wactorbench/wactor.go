package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/bench/internal/report"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/cputime"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

func init() {
	measures["ring/wactor"] = ringWactor
	measures["coldring/wactor"] = coldRingWactor
	measures["fanout/wactor"] = fanoutWactor
	measures["pingpong/wactor"] = pingpongWactor
	measures["storm/wactor"] = stormWactor
}

var (
	getPayload = []byte{0xa0}                  // {}
	addPayload = []byte{0xa1, 0x61, 'n', 0x01} // {"n": 1}
)

// newHost starts a host over store with one type, typ, running sp's guest.
// Activations stay for an hour: no figure includes a deactivation.
func newHost(ctx context.Context, sp *spec, store storage.Store, typ string) (*host.Host, error) {
	wasm, err := os.ReadFile(sp.Guest)
	if err != nil {
		return nil, err
	}
	// No cap on activations and no guest memory budget: the ring (10,001
	// actors) and the storm (100,000) keep more actors live than the
	// defaults allow, and would measure evictions instead of messages and
	// activations; the peers keep every actor live too. sp.Budget keeps
	// the default budget.
	budget := int64(-1)
	if sp.Budget {
		budget = 0
	}
	h, err := host.New(ctx, host.Config{Store: store, CacheDir: sp.Cache, MaxActivations: -1, MaxGuestMemory: budget,
		NoPipelining: sp.NoPipe, NoSnapshots: sp.NoSnap})
	if err != nil {
		return nil, err
	}
	tc := host.TypeConfig{
		Name:        typ,
		Module:      wasm,
		Source:      sp.Guest,
		Mailbox:     1 << 16,
		IdleTimeout: time.Hour,
		AskTimeout:  time.Minute,
	}
	if sp.GoGuest {
		tc.MaxMemory = 256 << 20 // the Go runtime's heap arenas need room
	}
	if err := h.Deploy(ctx, tc); err != nil {
		h.Close(ctx)
		return nil, err
	}
	if err := h.Start(ctx); err != nil {
		h.Close(ctx)
		return nil, err
	}
	return h, nil
}

// cborMap encodes a map of text keys to integers, in the order given.
func cborMap(kv ...any) []byte {
	b := abi.AppendMapHeader(nil, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		b = abi.AppendText(b, kv[i].(string))
		switch v := kv[i+1].(type) {
		case int:
			b = abi.AppendInt(b, int64(v))
		case string:
			b = abi.AppendText(b, v)
		}
	}
	return b
}

// mapInt reads the integer under key in the CBOR map p.
func mapInt(p []byte, key string) (int64, error) {
	r := abi.NewReader(p)
	n, err := r.ReadMapHeader()
	if err != nil {
		return 0, err
	}
	for range n {
		k, err := r.ReadText()
		if err != nil {
			return 0, err
		}
		if k == key {
			return r.ReadInt()
		}
		if err := r.Skip(); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("no %q in the reply", key)
}

// ringWactor: sp.N ring nodes pass one token sp.Laps times around, each
// hop a tell; the last node tells the sink, which the benchmark polls.
func ringWactor(ctx context.Context, sp *spec) (result, error) {
	h, err := newHost(ctx, sp, memstore.New(), "ring")
	if err != nil {
		return nil, err
	}
	defer h.Close(context.Background())
	if err := activate(ctx, h, "ring", sp.N); err != nil {
		return nil, err
	}
	r := &ring{h: h, n: sp.N}
	if _, err := r.lap(ctx, sp.N); err != nil { // warms every node up
		return nil, fmt.Errorf("first lap: %w", err)
	}
	hops := sp.N * sp.Laps
	cpu := cputime.Process()
	d, err := r.lap(ctx, hops)
	if err != nil {
		return nil, err
	}
	return result{"msgs_per_s": float64(hops) / d.Seconds(), "cpu_us": perMsgMicros(cputime.Process()-cpu, hops)}, nil
}

// coldRingWactor: sp.N ring nodes, none of them active, under the default
// guest memory budget and without a cap on activations: the first lap
// activates every node as the token reaches it; then one warm lap. It
// reports both laps, the process's peak resident memory (VmHWM, which
// counts each instance's mapping of its snapshot's image again, though
// the pages are the same), the peak of its anonymous resident memory
// (RssAnon, read every 50 ms), its resident memory after the laps,
// anonymous and shared, and what the guest memory budget counted.
func coldRingWactor(ctx context.Context, sp *spec) (result, error) {
	sp.Budget = true
	h, err := newHost(ctx, sp, memstore.New(), "ring")
	if err != nil {
		return nil, err
	}
	defer h.Close(context.Background())
	start, err := report.RSSKiB()
	if err != nil {
		return nil, err
	}
	var peakAnon atomic.Int64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if kib, err := report.StatusKiB("RssAnon"); err == nil && kib > peakAnon.Load() {
				peakAnon.Store(kib)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	r := &ring{h: h, n: sp.N}
	cold, err := r.lap(ctx, sp.N)
	var warm time.Duration
	if err == nil {
		warm, err = r.lap(ctx, sp.N)
	}
	close(stop)
	<-sampled
	if err != nil {
		return nil, err
	}
	res := result{"first_lap_s": cold.Seconds(), "warm_lap_s": warm.Seconds(), "start_rss_mib": float64(start) / 1024,
		"peak_anon_mib": float64(peakAnon.Load()) / 1024}
	for key, field := range map[string]string{"peak_rss_mib": "VmHWM", "anon_rss_mib": "RssAnon", "shmem_rss_mib": "RssShmem"} {
		kib, err := report.StatusKiB(field)
		if err != nil {
			return nil, err
		}
		res[key] = float64(kib) / 1024
	}
	inUse, budget := h.GuestMemory()
	res["budget_used_mib"], res["budget_mib"] = float64(inUse)/(1<<20), float64(budget)/(1<<20)
	return res, nil
}

// ring passes a token around n nodes of type ring, counting the laps the
// sink has seen.
type ring struct {
	h    *host.Host
	n    int
	laps int64
}

// lap sends the token on hops hops from node 0 and waits until the sink
// has it, polling.
func (r *ring) lap(ctx context.Context, hops int) (time.Duration, error) {
	r.laps++
	start := time.Now()
	if err := r.h.Tell(ctx, abi.Ref{Type: "ring", ID: "0"}, "pass", cborMap("n", r.n, "h", hops-1)); err != nil {
		return 0, err
	}
	deadline := start.Add(5 * time.Minute)
	for {
		reply, err := r.h.Ask(ctx, abi.Ref{Type: "ring", ID: "sink"}, "get", getPayload)
		if err != nil {
			return 0, err
		}
		got, err := mapInt(reply, "done")
		if err != nil {
			return 0, err
		}
		if got >= r.laps {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the token did not come back within 5 minutes")
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// fanoutWactor: one caller tells sp.K adds to each of sp.N live counters,
// round robin; done when a get on every counter (queued behind its adds)
// has answered.
func fanoutWactor(ctx context.Context, sp *spec) (result, error) {
	h, err := newHost(ctx, sp, memstore.New(), "counter")
	if err != nil {
		return nil, err
	}
	defer h.Close(context.Background())
	if err := activate(ctx, h, "counter", sp.N); err != nil {
		return nil, err
	}
	refs := make([]abi.Ref, sp.N)
	for i := range refs {
		refs[i] = abi.Ref{Type: "counter", ID: strconv.Itoa(i)}
	}
	total := sp.N * sp.K
	start, cpu := time.Now(), cputime.Process()
	for i := 0; i < total; i++ {
		if err := tellRetry(ctx, h, refs[i%len(refs)], "add", addPayload); err != nil {
			return nil, err
		}
	}
	var sum int64
	for _, r := range refs {
		reply, err := h.Ask(ctx, r, "get", getPayload)
		if err != nil {
			return nil, err
		}
		n, err := mapInt(reply, "n")
		if err != nil {
			return nil, err
		}
		sum += n
	}
	d, cpuUsed := time.Since(start), cputime.Process()-cpu
	if sum != int64(total) {
		return nil, fmt.Errorf("the counters hold %d, want %d", sum, total)
	}
	return result{"msgs_per_s": float64(total) / d.Seconds(), "cpu_us": perMsgMicros(cpuUsed, total)}, nil
}

// perMsgMicros is the processor time d spread over n messages, in µs.
func perMsgMicros(d time.Duration, n int) float64 {
	return float64(d.Nanoseconds()) / 1e3 / float64(n)
}

// activate asks typ/0 ... typ/<n-1> get from 8 callers: activations
// happen outside the measurements that need live actors.
func activate(ctx context.Context, h *host.Host, typ string, n int) error {
	var next atomic.Int64
	return parallel(8, func() error {
		for {
			i := next.Add(1) - 1
			if i >= int64(n) {
				return nil
			}
			if _, err := h.Ask(ctx, abi.Ref{Type: typ, ID: strconv.FormatInt(i, 10)}, "get", getPayload); err != nil {
				return err
			}
		}
	})
}

// tellRetry tells, waiting while the target's mailbox is full.
func tellRetry(ctx context.Context, h *host.Host, to abi.Ref, method string, payload []byte) error {
	for {
		err := h.Tell(ctx, to, method, payload)
		var e *abi.Error
		if err == nil || !errors.As(err, &e) || e.Code != abi.CodeMailboxFull {
			return err
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// pingpongWactor: pingpong/a asks pingpong/b's pong sp.K times in all
// (pings of at most 1,000 asks, the Go example's limit): asks per second
// between two actors. Then sp.Samples asks from the host to pong, one at a
// time, each timed: the latency percentiles.
func pingpongWactor(ctx context.Context, sp *spec) (result, error) {
	h, err := newHost(ctx, sp, memstore.New(), "pingpong")
	if err != nil {
		return nil, err
	}
	defer h.Close(context.Background())
	ping := abi.Ref{Type: "pingpong", ID: "a"}
	pong := abi.Ref{Type: "pingpong", ID: "b"}
	ask := func(count int) error {
		_, err := h.Ask(ctx, ping, "ping", cborMap("peer", "pingpong/b", "count", count))
		return err
	}
	if err := ask(100); err != nil { // activates both, warms up
		return nil, err
	}
	start := time.Now()
	for left := sp.K; left > 0; left -= 1000 {
		if err := ask(min(left, 1000)); err != nil {
			return nil, err
		}
	}
	r := result{"asks_per_s": float64(sp.K) / time.Since(start).Seconds()}
	lat, err := latencies(sp.Samples, func() error {
		_, err := h.Ask(ctx, pong, "pong", getPayload)
		return err
	})
	if err != nil {
		return nil, err
	}
	addLatencies(r, lat)
	return r, nil
}

// latencies times n calls of call, one after the other, sorted, in µs.
func latencies(n int, call func() error) ([]float64, error) {
	for range min(n/10, 1000) { // warm-up
		if err := call(); err != nil {
			return nil, err
		}
	}
	lat := make([]float64, n)
	for i := range lat {
		start := time.Now()
		if err := call(); err != nil {
			return nil, err
		}
		lat[i] = float64(time.Since(start).Nanoseconds()) / 1e3
	}
	slices.Sort(lat)
	return lat, nil
}

func addLatencies(r result, sorted []float64) {
	r["p50_us"] = report.Percentile(sorted, 50)
	r["p99_us"] = report.Percentile(sorted, 99)
}

// stormWactor activates sp.N distinct counters, one get each, from
// sp.Callers concurrent callers, and reports activations per second,
// the processor time of the process per activation and the growth of
// resident memory per activation (they all stay active).
func stormWactor(ctx context.Context, sp *spec) (result, error) {
	h, err := newHost(ctx, sp, memstore.New(), "counter")
	if err != nil {
		return nil, err
	}
	defer h.Close(context.Background())
	if _, err := h.Ask(ctx, abi.Ref{Type: "counter", ID: "warm"}, "get", getPayload); err != nil {
		return nil, err
	}
	rss0, err := settledRSS()
	if err != nil {
		return nil, err
	}
	var next atomic.Int64
	start, cpu := time.Now(), cputime.Process()
	err = parallel(sp.Callers, func() error {
		for {
			i := next.Add(1) - 1
			if i >= int64(sp.N) {
				return nil
			}
			if _, err := h.Ask(ctx, abi.Ref{Type: "counter", ID: strconv.FormatInt(i, 10)}, "get", getPayload); err != nil {
				return err
			}
		}
	})
	d, cpuUsed := time.Since(start), cputime.Process()-cpu
	if err != nil {
		return nil, err
	}
	rss1, err := settledRSS()
	if err != nil {
		return nil, err
	}
	if n := len(h.Activations()); n < sp.N {
		return nil, fmt.Errorf("only %d activations are live, want %d", n, sp.N)
	}
	return result{
		"per_s":   float64(sp.N) / d.Seconds(),
		"kib_per": float64(rss1-rss0) / float64(sp.N),
		"cpu_us":  float64(cpuUsed.Microseconds()) / float64(sp.N),
	}, nil
}

// settledRSS collects garbage, returns free memory to the OS and reads the
// resident set size, in KiB.
func settledRSS() (int64, error) {
	debug.FreeOSMemory()
	return report.RSSKiB()
}

// parallel runs fn in n goroutines and returns the first error.
func parallel(n int, fn func() error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
