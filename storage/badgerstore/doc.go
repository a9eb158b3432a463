// Package badgerstore is the durable storage.Store that wactor embeds: it
// keeps actors' state, versions, reminders and the outbox in a badger
// database in one directory.
//
// # Group commit
//
// Commit does not write by itself. It hands its batch to the store's one
// committer goroutine and waits. The committer takes every batch that is
// waiting, checks each one's version and applies it inside one badger
// transaction, commits that transaction once (with one fsync when
// Options.Sync is set) and then answers every caller. A batch whose version
// no longer matches gets storage.ErrVersionConflict and is left out; the
// others in the same group still commit. Checks see the batches before them
// in the group, so two turns of one actor can share a write. When the group
// does not fit in one badger transaction it is split at batch boundaries;
// a single batch that does not fit alone gets ErrBatchTooLarge.
//
// # A full disk
//
// badger writes its logs and tables through memory maps of sparse files,
// and a write the disk has no block for kills the process (SIGBUS). So the
// committer admits a batch only if, once it is written, the disk keeps
// free a reserve for what badger may write on its own: 1.1 times its
// write-ahead logs and tables (what flushing and compacting them can
// write before the old files go) plus 2 MiB. A batch that does not fit
// gets storage.ErrNoSpace and nothing of it is applied; the next one is
// measured afresh, so writes resume as soon as space is freed. Open
// refuses, with the same error, a disk without the reserve. See space.go.
//
// # Key layout
//
// Every badger key starts with one byte that says what it holds:
//
//	's' uvarint(len(actor)) actor key    one state entry of actor; value as given
//	'v' actor                            actor's version, 8 bytes big-endian
//	'o' id                               an outbox message, see encodeMessage
//	'r' key                              an idempotency record: the reply, with badger's expiry
//	'x' id                               a dead letter, see encodeDeadLetter
//	'X'                                  the dead letter totals, see encodeDeadTotals
//	'd' due uvarint(len(actor)) actor name  a reminder, in the due-time index; see encodeReminder
//	'm' uvarint(len(actor)) actor name      the due time of actor's reminder name
//	'n' uvarint(len(set)) set member        a link of set; value as given
//
// due is 12 bytes that sort like the time: the Unix seconds, big-endian,
// with the sign bit flipped, then the nanoseconds, big-endian. The 'd'
// keys are the due-time index: DueReminders reads them in order from the
// start and stops at the first reminder due later than asked, so it costs
// what it returns, however many reminders are stored. The 'm' keys find a
// reminder by name, to replace or cancel it (deleting its old 'd' key in
// the same transaction) and to list an actor's reminders.
//
// The length prefix makes one actor's state keys a range of their own, so
// Load reads them with a single prefix iteration, whatever bytes actor
// names and keys hold.
package badgerstore
