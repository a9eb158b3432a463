// Package nodeproc holds what the end-to-end tests (e2e/) and the
// benchmark suite (bench/) share to run wactor cluster nodes as separate
// "wactor run" processes on 127.0.0.1: free addresses, the cluster
// section of their manifest, the flags that tell the nodes apart, and
// the wait until a node is ready. Starting and watching the processes
// stays with each caller (a test fails its t, the suite returns errors).
package nodeproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Errors of the package.
var (
	// ErrExited: the process exited before it was ready.
	ErrExited = errors.New("nodeproc: the process exited before it was ready")
)

// FreeAddrs returns n distinct addresses of 127.0.0.1 that were free a
// moment ago (all held open together, so that no two are the same).
func FreeAddrs(n int) ([]string, error) {
	out := make([]string, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("nodeproc: a free port: %w", err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	return out, nil
}

// ClusterSection returns the cluster section of a manifest (docs/manifest.md,
// "cluster") for a cluster named name whose members' route addresses are
// routes, with lease_ttl when leaseTTL is not 0.
func ClusterSection(name string, leaseTTL time.Duration, routes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster:\n  name: %s\n", name)
	if leaseTTL != 0 {
		fmt.Fprintf(&b, "  lease_ttl: %s\n", leaseTTL)
	}
	b.WriteString("  routes:\n")
	for _, r := range routes {
		fmt.Fprintf(&b, "    - nats-route://%s\n", r)
	}
	return b.String()
}

// Node is what tells one member apart when every member runs the same
// manifest: its name and addresses.
type Node struct {
	Name   string
	HTTP   string // the HTTP gateway's address
	Client string // the embedded NATS server's client address
	Route  string // the embedded NATS server's route address, as the routes name it
}

// Flags returns the flags of "wactor run" for n (docs/cluster.md, "The
// flags of wactor run").
func (n Node) Flags() []string {
	return []string{"--http-addr", n.HTTP, "--node", n.Name, "--nats-addr", n.Client, "--nats-cluster-addr", n.Route}
}

// readyPoll is how often WaitReady asks.
const readyPoll = 20 * time.Millisecond

// WaitReady asks url's /readyz every 20 ms until it answers 200. It fails
// with ErrExited once exited is closed (nil: never), or with ctx's error
// when ctx ends first, saying what the last answer was.
func WaitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	last := "no answer yet"
	for {
		resp, err := client.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-exited:
			return ErrExited
		case <-ctx.Done():
			return fmt.Errorf("nodeproc: %s/readyz did not answer 200 in time (last: %s): %w", url, last, ctx.Err())
		case <-time.After(readyPoll):
		}
	}
}
