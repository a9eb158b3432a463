package main

import (
	"net"

	"golang.org/x/net/netutil"
)

// maxConnections bounds the HTTP connections wactor holds at once, so
// that a client opening many (and sending nothing, or slowly) costs at
// most this many goroutines and buffers, about 20 KiB each.
const maxConnections = 10_000

// connectionLimit is how many HTTP connections wactor holds at once:
// maxConnections, and at most half of the file descriptors the process
// may open (openFileLimit), so that the rest stay for the store, NATS,
// the compile cache and granted folders whatever the clients do.
func connectionLimit() int {
	limit, ok := openFileLimit()
	if !ok {
		return maxConnections
	}
	return int(max(min(limit/2, maxConnections), 1))
}

// limitConnections returns ln holding at most n connections at once: past
// them it accepts none until one closes, and the kernel's accept queue
// holds the clients that wait.
func limitConnections(ln net.Listener, n int) net.Listener { return netutil.LimitListener(ln, n) }
