// Package natsstore is a storage.Store and storage.Leases on one NATS
// JetStream stream, shared by the nodes of a wactor cluster.
//
// # Layout
//
// The stream (Config.Stream, "WACTOR" by default) keeps one message per
// subject (MaxMsgsPerSubject 1), so each subject is a key and its last
// message the value. Every token after the kind is base64url without
// padding ("=" for the empty string), so actor refs, keys, names and IDs
// may hold any bytes:
//
//	WACTOR.v.<actor>          the actor's version, in decimal
//	WACTOR.s.<actor>.<key>    one state value
//	WACTOR.o.<target>.<id>    an outbox entry, under its target, so that
//	                          the messages to one actor are one filter
//	WACTOR.k.<key>            an idempotency record; a per-message TTL
//	                          (AllowMsgTTL) drops it after it expires
//	WACTOR.r.<actor>.<name>   a durable reminder
//	WACTOR.d.<hour>.<actor>.<name>
//	                          the same reminder, filed under the hour it
//	                          is due in (16 hex digits, in time order)
//	WACTOR.db.<hour>          a marker: that hour may hold reminders
//	WACTOR.x.<id>             a dead letter; header Wactor-Size its size
//	WACTOR.xs                 the dead letter totals
//	WACTOR.e.<actor>          the lease's epoch: written only when the
//	                          lease passes to an owner; its sequence is
//	                          the Epoch a Fence names
//	WACTOR.l.<actor>          the lease: owner, expiry, released; a
//	                          held lease's message expires a minute
//	                          after the lease, a released one's is kept,
//	                          so an epoch without a lease subject is a
//	                          holding that lapsed (Lease.Lapsed)
//	WACTOR.n.<set>.<member>   a link of set; its value as given
//	WACTOR.f.<actor>          a scratch message that carries a fence when
//	                          nothing else in the batch can
//
// A delete is a tombstone: an empty message with header Wactor-Deleted
// and a one-second TTL, so the server soon forgets it.
//
// # Commits
//
// Each Commit is one atomic batch (AllowAtomicPublish): the server
// stages every message and applies them all, or none, once the last
// arrives. The batch's expectations are checked by the server inside it:
//   - a batch that changes state carries, on its last message (the new
//     version), Nats-Expected-Last-Subject-Sequence: the sequence of the
//     version message the caller's Version was read from;
//   - a fenced batch carries, on another message,
//     Nats-Expected-Last-Subject-Sequence-Subject: WACTOR.e.<actor> with
//     the fence's epoch. A claim by another owner writes that subject,
//     so every later batch of the old holder fails (storage.ErrFenced).
//     Renewals write only WACTOR.l.<actor>, so a renewal never fences
//     its holder's own commits;
//   - a batch with dead letters expects the sequence of the totals it
//     read, so concurrent batches with dead letters are serialised (the
//     loser is rebuilt and sent again).
//
// When a batch is refused, the store reads the epoch and version to say
// which (ErrFenced before ErrVersionConflict); a refusal with neither
// moved (a race on the totals, or, on a replicated stream, a check on a
// subject another proposal has in flight) is retried.
//
// # Reads
//
// Load reads the version and the state in one multi-subject direct get,
// which the server isolates from batches, so it never sees half a
// commit; an answer from a replica that has not yet applied the store's
// own last acknowledged write (its end says which sequence it reflects)
// is dropped and the read sent again, so a node reads what it wrote and,
// after claiming a lease, every commit before the claim. An actor with
// more than 1023 keys is read by listing its state subjects from the
// stream's leader (a stream info, asked again until its last sequence
// reaches the store's last write), then reading them in multi-subject
// reads of up to 1,000 subjects, each checked like the single read, and
// is checked against its version (written last in each batch). Reminders
// and links of more than 1,024 subjects are read the same way. Paged
// direct gets, whose answers say nothing of how current they are, serve
// only Outbox, OutboxPage and DeadLetters, whose readers come back.
// OutboxPage reads one batch of outbox messages from a stream sequence on
// (its cursor), in the order they were committed. Outbox and
// DeadLetters scan their subjects and sort: JetStream keeps no order among
// subjects, so DeadLetters costs in proportion to the letters kept
// (bounded by the cap); Links reads every link of its set and sorts them,
// at a cost that follows the set, which the host bounds. DueReminders reads the due-time index: it lists
// the hour markers (a stream info filtered on WACTOR.db.*), then reads
// the hours up to its bound in order until it has limit reminders; an
// hour found empty loses its marker, removed with an expectation on the
// marker's sequence so that a reminder filed there meanwhile keeps it.
// Its cost follows the hours that hold reminders and the reminders of
// the hours it reads, not the reminders stored.
//
// # Limits of the server
//
// The store needs nats-server 2.12 or later (atomic batches, per-message
// TTLs, multi-subject direct gets); it is tested with 2.15.3.
// nats-server 2.15 allows 1000 messages in an atomic batch
// (max_batch_size), 50 batches open per stream and 1000 per server
// (max_batch_inflight_per_stream, _total), and abandons a batch whose
// commit does not come within 10 s. A Store keeps at most
// Config.MaxInflight batches open and retries the server's "too many in
// flight" refusal; a Commit larger than Config.MaxBatch fails with
// ErrBatchTooLarge. A value must fit in the server's max_payload.
//
// # Leases
//
// A lease's expiry is judged by the claiming node's clock against the
// Expires the holder wrote; the fence, not the clocks, is what keeps two
// nodes from committing for one actor. A lease that expired but was not
// claimed again still lets its holder commit and renew: no other holding
// began, so no one else can have committed.
//
// Reads, and a lease's claims, renewals and releases, are sent in
// attempts (the first of Config.AttemptTimeout, each next one half as
// long again, up to four times it) and sent again when unanswered (the
// stream electing a leader, or a paused server): a read is free to
// repeat. Every write (a commit's batch, a lease's write) is sent the
// same way, for up to Config.Timeout, each attempt with the same message
// id (Nats-Msg-Id, on the batch's first message): the stream refuses an
// attempt that repeats one it applied (its leader moved while the answer
// was on its way; it remembers the ids for twice Config.Timeout), and
// the write succeeds with the sequence the first got.
package natsstore
