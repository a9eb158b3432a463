package main

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/internal/cputime"
	"github.com/wactor/wactor/storage/memstore"
)

func init() {
	measures["http/wactor"] = httpWactor
	measures["http/ceiling"] = httpCeiling
	measures["http/oneworker"] = httpOneWorker
}

//go:embed wrk/counter.lua
var counterLua []byte

// httpWactor serves the gateway over a host with the counter guest on
// 127.0.0.1 and loads it with wrk: sp.Conns connections, adds spread over
// sp.N counters.
func httpWactor(ctx context.Context, sp *spec) (result, error) {
	h, err := newHost(ctx, sp, memstore.New(), "counter")
	if err != nil {
		return nil, err
	}
	defer h.Close(context.Background())
	if err := activate(ctx, h, "counter", sp.N); err != nil {
		return nil, err
	}
	g := gateway.New(h, gateway.Config{})
	g.SetReady(true)
	return serveAndLoad(ctx, sp, g)
}

// httpCeiling is the same route on a bare net/http server whose handler
// reads the body and answers a constant: what net/http and wrk cost on
// this machine, the most any handler could do.
func httpCeiling(ctx context.Context, sp *spec) (result, error) {
	mux := http.NewServeMux()
	reply := []byte("{\"n\":1}\n")
	mux.HandleFunc("POST /v1/actors/{type}/{id}/{method}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(reply)))
		_, _ = w.Write(reply)
	})
	return serveAndLoad(ctx, sp, mux)
}

// httpOneWorker is the ceiling's handler with the wait of a request to one
// busy actor and nothing else: each request hands a job to one worker
// goroutine, which answers the jobs one at a time through a channel, and
// waits for the answer or for its client to go. What net/http costs more
// when its handlers wait for another goroutine (a park and a wake per
// request, and net/http's background read of the connection, which then
// parks too) is a floor for the gateway on one actor, whose asks queue.
func httpOneWorker(ctx context.Context, sp *spec) (result, error) {
	// Room for every connection's request: a handler never waits to
	// hand its job over, not even once the worker stopped.
	jobs := make(chan chan []byte, sp.Conns)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		reply := []byte("{\"n\":1}\n")
		for {
			select {
			case answer := <-jobs:
				answer <- reply // buffered: never blocks
			case <-stop:
				return
			}
		}
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/actors/{type}/{id}/{method}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		answer := make(chan []byte, 1)
		jobs <- answer
		var reply []byte
		select {
		case reply = <-answer:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(reply)))
		_, _ = w.Write(reply)
	})
	return serveAndLoad(ctx, sp, mux)
}

func serveAndLoad(ctx context.Context, sp *spec, handler http.Handler) (result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	script := filepath.Join(sp.WorkDir, "counter.lua")
	if err := os.WriteFile(script, counterLua, 0o644); err != nil {
		return nil, err
	}
	secs := max(1, int(sp.Dur.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, sp.Wrk, "-t2", "-c"+strconv.Itoa(sp.Conns), "-d"+strconv.Itoa(secs)+"s",
		"--timeout", "10s", "--latency", "-s", script, "http://"+ln.Addr().String(), "--", strconv.Itoa(sp.N))
	cpu := cputime.Process()
	out, err := cmd.CombinedOutput()
	cpuUsed := cputime.Process() - cpu
	if err != nil {
		return nil, fmt.Errorf("wrk: %v: %s", err, tail(string(out), 400))
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return nil, fmt.Errorf("%v in wrk's output: %s", err, tail(string(out), 600))
	}
	// The server's processor time per request (wrk runs in a process of
	// its own): what the handler costs, which a loaded machine disturbs
	// less than the rate.
	if reqs := r["rps"] * float64(secs); reqs > 0 {
		r["cpu_us"] = float64(cpuUsed.Nanoseconds()) / 1e3 / reqs
		// wrk's own, for telling a server that ran out of processor
		// time from one that waited (not in the report's table).
		if ps := cmd.ProcessState; ps != nil {
			r["wrk_cpu_us"] = float64((ps.UserTime() + ps.SystemTime()).Nanoseconds()) / 1e3 / reqs
		}
	}
	return r, nil
}

// parseWrk reads requests per second, the 50th and 99th latency
// percentiles (in ms) from wrk --latency's report, and as errors the
// count of non-2xx answers and socket errors (timeouts included), which the
// table shows next to the figures they taint.
func parseWrk(out string) (result, error) {
	r := result{"errors": 0}
	inDist := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Latency Distribution"):
			inDist = true
		case inDist && len(f) == 2 && strings.HasSuffix(f[0], "%"):
			us, err := wrkDuration(f[1])
			if err != nil {
				return nil, err
			}
			switch f[0] {
			case "50%", "50.000%":
				r["p50_ms"] = us / 1e3
			case "99%", "99.000%":
				r["p99_ms"] = us / 1e3
			}
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return nil, err
			}
			r["rps"] = v
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			n, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				return nil, fmt.Errorf("bad line %q", line)
			}
			r["errors"] += n
		case strings.HasPrefix(line, "Socket errors:"):
			// Socket errors: connect 0, read 0, write 0, timeout 12
			for _, x := range f[2:] {
				if n, err := strconv.ParseFloat(strings.TrimSuffix(x, ","), 64); err == nil {
					r["errors"] += n
				}
			}
		default:
			if inDist && !strings.HasSuffix(f0(f), "%") {
				inDist = false
			}
		}
	}
	for _, k := range []string{"rps", "p50_ms", "p99_ms"} {
		if _, ok := r[k]; !ok {
			return nil, fmt.Errorf("no %s", k)
		}
	}
	return r, nil
}

func f0(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// wrkDuration reads a duration as wrk prints it ("812.00us", "1.23ms",
// "2.00s", "1.00m") in µs.
func wrkDuration(s string) (float64, error) {
	units := []struct {
		suffix string
		us     float64
	}{{"us", 1}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}, {"h", 3600e6}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return v * u.us, nil
		}
	}
	return 0, fmt.Errorf("bad duration %q", s)
}
