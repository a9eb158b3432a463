package cluster

import (
	"testing"
	"time"
)

// natsClockAtInit is nats-server's Raft clock as the process started,
// before any node set it: the package's variables are initialised before
// any test runs.
var natsClockAtInit = raftTiming{natsHeartbeat, natsMinElection, natsMaxElection}

// TestRaftClockBound: the names bound by go:linkname are nats-server's
// Raft clock, holding its defaults until a node sets them. A nats-server
// that renamed them would leave these zero (the names would then be this
// package's own variables), and one that changed its defaults shows here
// too: read raft.go of the new version and check raftTimingFor's
// reasoning still holds before changing the expectation.
func TestRaftClockBound(t *testing.T) {
	want := raftTiming{heartbeat: time.Second, minElection: 4 * time.Second, maxElection: 9 * time.Second}
	if natsClockAtInit != want {
		t.Fatalf("nats-server's Raft clock at start is %+v; want its defaults %+v: the go:linkname names in raftclock.go no longer bind", natsClockAtInit, want)
	}
}

func TestRaftTimingFor(t *testing.T) {
	for _, tc := range []struct {
		lease time.Duration
		want  raftTiming
	}{
		{time.Second, raftTiming{time.Second / 6, 4 * (time.Second / 6), 5 * (time.Second / 6)}},
		{DefaultLeaseTTL, raftTiming{500 * time.Millisecond, 2 * time.Second, 2500 * time.Millisecond}},
		{6 * time.Second, raftTiming{time.Second, 4 * time.Second, 5 * time.Second}},
		{MaxLeaseTTL, raftTiming{time.Second, 4 * time.Second, 5 * time.Second}},
	} {
		got := raftTimingFor(tc.lease)
		if got != tc.want {
			t.Errorf("raftTimingFor(%s) = %+v; want %+v", tc.lease, got, tc.want)
		}
		// A stream that lost its leader with a node must have a new one
		// before that node's leases lapse; and a follower must miss
		// several beats first.
		if tc.lease <= 6*time.Second && got.maxElection >= tc.lease {
			t.Errorf("lease %s: elections up to %s after the last beat; not within the lease", tc.lease, got.maxElection)
		}
		if got.minElection < 4*got.heartbeat {
			t.Errorf("lease %s: a follower campaigns after %s, fewer than 4 beats of %s", tc.lease, got.minElection, got.heartbeat)
		}
	}
}
