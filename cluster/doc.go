// Package cluster runs a wactor node as a member of a cluster on NATS
// JetStream: it starts an embedded nats-server with JetStream that routes
// to its peers (or connects to an existing NATS cluster by URL), keeps the
// list of members in a JetStream key-value bucket that every node
// heartbeats into, names the preferred owner of each actor by rendezvous
// hashing over the active members, and carries asks between nodes as NATS
// request/reply.
//
// The host sees the cluster only through small interfaces: [Placement]
// (who owns an actor, and when that changes) and [Transport] (ask another
// node). NATS is imported here and in the JetStream store only.
//
// A node's life: [Start] brings NATS up (and waits for JetStream); [Node.Join]
// announces the node as joining and starts its heartbeats; [Node.SetState]
// makes it active once it serves; [Node.Close] marks it leaving, removes its
// entry, and stops NATS. A node that dies stops heartbeating and drops out
// of every member list within its lease TTL.
package cluster
