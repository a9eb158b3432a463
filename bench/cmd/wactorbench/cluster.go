package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/internal/nodeproc"
)

func init() {
	measures["cluster/wactor"] = clusterWactor
}

// clusterStartTimeout bounds the start of the nodes of one measurement.
const clusterStartTimeout = 2 * time.Minute

// clusterWactor runs sp.N real "wactor run" processes (sp.Wactor) on
// 127.0.0.1 with the counter guest: one node on badger with Sync when
// sp.N is 1, else a cluster of sp.N nodes, each embedding a NATS server
// (the actors in one JetStream stream, R3 from three nodes). sp.Callers
// callers, each on its own counter, ask add over HTTP for sp.Dur, each
// through the gateway of the counter's preferred owner (rendezvous over
// the nodes' names), or of another node when sp.Cross is set: durable
// turns per second. Then sp.Samples asks of one counter, one at a time,
// each timed: p50 and p99. Last, the resident memory (VmRSS) of each
// process: the mean and the largest, in MiB.
func clusterWactor(ctx context.Context, sp *spec) (result, error) {
	dir, err := os.MkdirTemp(sp.WorkDir, "cluster-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	nodes, err := startNodes(ctx, sp, dir)
	defer stopNodes(nodes)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.name
	}
	// gateway returns the node a call to counter id goes through.
	gateway := func(id string) *benchNode {
		owner := cluster.Rendezvous("counter/"+id, names)
		for i, n := range nodes {
			if n.name == owner {
				if sp.Cross {
					return nodes[(i+1)%len(nodes)]
				}
				return n
			}
		}
		return nodes[0]
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: sp.Callers + 1}, Timeout: 30 * time.Second}
	add := func(id string) error { return benchAdd(ctx, client, gateway(id), id) }
	ids := make([]string, sp.Callers)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
		// Activated through the owner's gateway, where a node that does
		// not forward calls activates it.
		if err := benchAdd(ctx, client, nodes[(sliceIndex(names, cluster.Rendezvous("counter/"+ids[i], names)))], ids[i]); err != nil {
			return nil, fmt.Errorf("activating counter/%s: %w", ids[i], err)
		}
	}
	n, d, err := forDuration(sp.Callers, sp.Dur, func(i int) error { return add(ids[i]) })
	if err != nil {
		return nil, err
	}
	r := result{"per_s": float64(n) / d.Seconds()}
	lat, err := latencies(sp.Samples, func() error { return add(ids[0]) })
	if err != nil {
		return nil, err
	}
	addLatencies(r, lat)
	var sum, most float64
	for _, n := range nodes {
		kib, err := procRSS(n.cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		mib := float64(kib) / 1024
		sum += mib
		most = max(most, mib)
	}
	r["rss_mib"], r["max_rss_mib"] = sum/float64(len(nodes)), most
	return r, nil
}

func sliceIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return 0
}

// benchAdd asks counter/id's add through n's gateway and wants 200.
func benchAdd(ctx context.Context, client *http.Client, n *benchNode, id string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url+"/v1/actors/counter/"+id+"/add", strings.NewReader(`{"n":1}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST counter/%s/add through %s: %s %s", id, n.name, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// benchNode is one "wactor run" process.
type benchNode struct {
	name, url string
	cmd       *exec.Cmd
	log       bytes.Buffer
	exited    chan struct{}
}

// startNodes writes the manifest into dir and starts sp.N nodes
// together (a cluster's JetStream answers once a majority is up), and
// waits until each answers /readyz.
func startNodes(ctx context.Context, sp *spec, dir string) ([]*benchNode, error) {
	addrs, err := nodeproc.FreeAddrs(3 * sp.N)
	if err != nil {
		return nil, err
	}
	https, clients, routes := addrs[:sp.N], addrs[sp.N:2*sp.N], addrs[2*sp.N:]
	var m strings.Builder
	m.WriteString("version: 1\n")
	if sp.N == 1 {
		m.WriteString("storage:\n  kind: badger\n  sync: true\n")
	} else {
		m.WriteString(nodeproc.ClusterSection("bench", 0, routes))
	}
	fmt.Fprintf(&m, "actors:\n  - type: counter\n    module: %s\n", sp.Guest)
	manifest := filepath.Join(dir, "wactor.yaml")
	if err := os.WriteFile(manifest, []byte(m.String()), 0o644); err != nil {
		return nil, err
	}
	var nodes []*benchNode
	for i := range sp.N {
		name := "n" + strconv.Itoa(i+1)
		args := []string{"run", "-f", manifest, "--data-dir", filepath.Join(dir, name), "--cache-dir", sp.Cache, "--log-level", "warn"}
		if sp.N > 1 {
			args = append(args, nodeproc.Node{Name: name, HTTP: https[i], Client: clients[i], Route: routes[i]}.Flags()...)
		} else {
			args = append(args, "--http-addr", https[i])
		}
		cmd := exec.Command(sp.Wactor, args...)
		n := &benchNode{name: name, url: "http://" + https[i], cmd: cmd, exited: make(chan struct{})}
		cmd.Stdout, cmd.Stderr = &n.log, &n.log
		if err := cmd.Start(); err != nil {
			return nodes, err
		}
		go func() { cmd.Wait(); close(n.exited) }()
		nodes = append(nodes, n)
	}
	ctx, cancel := context.WithTimeout(ctx, clusterStartTimeout)
	defer cancel()
	for _, n := range nodes {
		if err := nodeproc.WaitReady(ctx, n.url, n.exited); err != nil {
			return nodes, fmt.Errorf("%s: %w: %s", n.name, err, tail(n.log.String(), 400))
		}
	}
	return nodes, nil
}

// stopNodes stops the nodes with SIGTERM, one after the other, and
// kills one that has not exited within 30 s.
func stopNodes(nodes []*benchNode) {
	for _, n := range nodes {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.exited:
		case <-time.After(30 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	}
}

// procRSS is the resident memory (VmRSS) of process pid, in KiB.
func procRSS(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

// wactorBinaryPath is where wactorBinary builds cmd/wactor.
func (e *env) wactorBinaryPath() string { return filepath.Join(e.work, "wactor") }

// wactorBinary builds cmd/wactor into the scratch directory, once.
func (e *env) wactorBinary(ctx context.Context) error {
	e.wactorOnce.Do(func() {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", e.wactorBinaryPath(), "./cmd/wactor")
		cmd.Dir = e.root
		if out, err := cmd.CombinedOutput(); err != nil {
			e.wactorErr = fmt.Errorf("go build ./cmd/wactor: %v: %s", err, tail(string(out), 400))
		}
	})
	return e.wactorErr
}

// withWactor makes s build the wactor binary before its first
// measurement.
func (e *env) withWactor(s system) system {
	if inner := s.measure; inner != nil {
		s.measure = func(ctx context.Context) (result, error) {
			if err := e.wactorBinary(ctx); err != nil {
				return nil, err
			}
			return inner(ctx)
		}
	}
	return s
}

// wactorOnceState is the env's memo of the wactor binary's build.
type wactorOnceState struct {
	wactorOnce sync.Once
	wactorErr  error
}
