package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestConnectionsBounded: a client that opens connections and sends
// nothing on them makes wactor hold at most half of its file descriptors
// (here 1000 of 2000) for them, however many it opens; the others wait in
// the kernel's accept queue, costing wactor nothing. Without the bound
// the client takes every descriptor, and the store, NATS, the compile
// cache and granted folders can open no file. Once the client goes,
// wactor answers again.
func TestConnectionsBounded(t *testing.T) {
	const nofile, attack = 2000, 1500
	s := launchVia(t, []string{"sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$@"`, nofile), "sh"}, newApp(t), nil, "--http-addr", "127.0.0.1:0")
	s.waitReady(time.After(startTimeout))
	fds := func() int {
		entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	before := fds()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dialing := time.Now().Add(30 * time.Second) // a full accept queue makes each dial wait out its timeout
	for range attack {
		if time.Now().After(dialing) {
			break
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err != nil {
			continue // the accept queue is full too: the kernel holds the rest
		}
		conns = append(conns, c)
	}
	// wactor accepts what it takes at once; give it a moment to.
	time.Sleep(500 * time.Millisecond)
	if grown := fds() - before; grown > nofile/2 {
		t.Errorf("%d connections that send nothing took %d more file descriptors of %d; want at most %d", len(conns), grown, nofile, nofile/2)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	client := &http.Client{Timeout: callTimeout}
	resp, err := client.Get(s.url + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz once the connections closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz once the connections closed = %d; want 200", resp.StatusCode)
	}
}
