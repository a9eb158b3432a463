package cluster

import (
	"sync"
	"time"
	_ "unsafe" // go:linkname, to set nats-server's Raft clock (see raftClock)

	// The variables below live in this package.
	_ "github.com/nats-io/nats-server/v2/server"
)

// nats-server's Raft clock: how often a leader sends heartbeats, and how
// long a follower waits without one before it campaigns. The server keeps
// them in unexported package variables (its own tests set them) and has
// no option for them; they are bound here by name. TestRaftClockBound
// checks that the names still hold the server's defaults, so a
// nats-server upgrade that renames or moves them fails the build's tests
// instead of silently leaving the defaults (4 to 9 s) in place.
var (
	//go:linkname natsHeartbeat github.com/nats-io/nats-server/v2/server.hbInterval
	natsHeartbeat time.Duration
	//go:linkname natsMinElection github.com/nats-io/nats-server/v2/server.minElectionTimeout
	natsMinElection time.Duration
	//go:linkname natsMaxElection github.com/nats-io/nats-server/v2/server.maxElectionTimeout
	natsMaxElection time.Duration
)

// raftTiming is one setting of nats-server's Raft clock.
type raftTiming struct {
	heartbeat, minElection, maxElection time.Duration
}

// maxRaftHeartbeat is nats-server's own heartbeat, which a long lease
// keeps.
const maxRaftHeartbeat = time.Second

// raftTimingFor scales the Raft clock to a lease: a follower campaigns
// after 4 to 5 missed heartbeats (nats-server: 4 to 9, at 1 s each), and
// a heartbeat is a sixth of the lease, at most 1 s (at least 167 ms, as a
// lease is at least MinLeaseTTL). A stream or meta group whose leader
// died with a node thus elects a new one within 5/6 of the lease, before
// that node's leases lapse: its actors are served again within
// lease_ttl + 1 s even when its server led their stream, and the new
// owner's first commit finds a leader in place instead of waiting out
// requests to the lost one. With the server's defaults the election alone
// took 4 to 9 s.
func raftTimingFor(lease time.Duration) raftTiming {
	hb := min(lease/6, maxRaftHeartbeat)
	return raftTiming{heartbeat: hb, minElection: 4 * hb, maxElection: 5 * hb}
}

var (
	raftClockOnce sync.Once
	raftClockSet  raftTiming
)

// raftClock sets nats-server's Raft clock for lease once per process,
// before the first embedded server starts: the servers read the
// variables without a lock, so they may not change while one runs. Later
// nodes of the same process (tests) keep the first node's setting, which
// it returns.
func raftClock(lease time.Duration) raftTiming {
	raftClockOnce.Do(func() {
		raftClockSet = raftTimingFor(lease)
		natsHeartbeat = raftClockSet.heartbeat
		natsMinElection = raftClockSet.minElection
		natsMaxElection = raftClockSet.maxElection
	})
	return raftClockSet
}
