package host

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
	"go.opentelemetry.io/otel/trace"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
)

// activation is one live actor: its state and its instance. The scheduler
// runs one turn at a time; only the pipeline, which a flusher goroutine
// shares, has a lock.
type activation struct {
	h   *Host
	typ *actorType
	ref abi.Ref
	// state is what the last turn left: committed, or in the pipeline
	// (speculative), where a failed commit makes the activation reload it.
	state  map[string][]byte
	p      pipeline     // turns whose commits are in flight, and the version
	inst   *instance    // nil after a failure; rebuilt at the next turn
	stderr outputBuffer // the guest's recent stdout/stderr, for trap messages
	reqBuf []byte
	watch  turnWatch  // times the turn running, for the observer
	span   trace.Span // of the message being received; nil when not traced
	// lease is the actor's lease this activation holds when the host
	// shares its store with other nodes (see ownership); nil otherwise.
	lease *held
	// reader runs read-only asks while a turn waits in an ask (see
	// readonly.go); nil until one does.
	reader *instance
	// live: an instance started and its end is not told to the
	// watchers yet (see ended).
	live bool
	// self is ref.String(): set by Activate, which needed it first, or
	// made at its first use (selfString).
	self string
}

// selfString returns the activation's ref as a string, made once.
func (a *activation) selfString() string {
	if a.self == "" {
		a.self = a.ref.String()
	}
	return a.self
}

// turn is what one message's processing has buffered so far.
type turn struct {
	ctx      context.Context
	tctx     turnCtx // what ctx points to (setCtx)
	timedOut bool    // the guest ran past deadline and was stopped (refuel, on the turn's own goroutine)
	a        *activation
	cfg      *TypeConfig // of the deployment the turn runs
	inst     *instance
	msg      *scheduler.Message
	kind     abi.RequestKind // a message, or the activate or deactivate hook
	// deadline is when the guest's execution limit runs out, on the
	// monotonic clock (see monotonic; 0: not set), pushed back by the
	// time it waits in asks; only the goroutine running the turn reads
	// and writes it (see refuel).
	deadline  time.Duration
	writes    map[string][]byte // nil value: delete
	sends     []outgoing
	timers    []timerOp                    // in the order the guest made them
	reminders map[string]*storage.Reminder // by name; nil value: cancel
	watches   map[string]bool              // by target: watch, or unwatch (false)
	// publications and subs are the turn's topic calls: subs by topic,
	// the method subscribed, or "" to unsubscribe.
	publications []publication
	subs         map[string]string
	firing       *firing    // the reminder this turn fires, if any
	span         trace.Span // the turn's span; nil when not traced
	deactivate   bool
	forward      *outgoing // where the turn forwards its ask (forward.go); nil: it answers
	// doomed is why the turn fails whatever the guest answers: it waited
	// for the pipeline (before an ask, say) and an earlier commit failed.
	doomed error
	status abi.Status // of the last host call
	result []byte     // pending result of the last host call
	// up is the turn this one runs nested in (reentry.go), and depth how
	// deep; nil and 0 for a turn of its own.
	up    *turn
	depth int
	// batch is what the turn commits (see activation.batch), consumed
	// the backing of its Consumed and sent of its Send when the turn
	// tells one actor: kept in the turn, which is made anyway, rather
	// than allocated apart for every turn.
	batch    storage.Batch
	consumed [1]string
	sent     [1]storage.Message
	// allocating is set while the host waits in the guest's wactor_alloc
	// for the turn's input buffer: an import called then is refused
	// (turnFrom). The request is not in guest memory yet, and an ask
	// from there that came back nested would reuse the host's request
	// buffer, so the turn would be handed another message's bytes.
	allocating bool
}

// timerOp is a timer_set (spec) or timer_cancel (nil spec) the turn made.
type timerOp struct {
	name string
	spec *scheduler.TimerSpec
}

// label names what the turn runs, for messages.
func (t *turn) label() string {
	switch t.kind {
	case abi.KindActivate:
		return "(activate hook)"
	case abi.KindDeactivate:
		return "(deactivate hook)"
	}
	return t.msg.Method
}

type outgoing struct {
	ref     abi.Ref
	target  string // ref as text: the Call's Target, of which ref is the parts
	method  string
	payload []byte
	trace   string // traceparent of the tell's span, or ""
}

type turnKey struct{}

// turnCtx is a turn's context: its parent's, with the turn as the value of
// turnKey{}. It is a field of the turn, so that making it allocates
// nothing (context.WithValue did, once per message); it is as good as the
// turn, which ends when Receive returns (see spareTurn).
type turnCtx struct {
	context.Context
	t *turn
}

// Value returns the turn for turnKey{}, else what the parent holds.
func (c *turnCtx) Value(key any) any {
	if _, ok := key.(turnKey); ok {
		return c.t
	}
	return c.Context.Value(key)
}

// setCtx makes t's context, a child of ctx holding t.
func (t *turn) setCtx(ctx context.Context) {
	t.tctx = turnCtx{Context: ctx, t: t}
	t.ctx = &t.tctx
}

func (t *turn) setResult(s abi.Status, r []byte) { t.status, t.result = s, r }

func (t *turn) write(key string, value []byte) {
	if t.writes == nil {
		t.writes = make(map[string][]byte)
	}
	t.writes[key] = value
}

// Receive runs one turn and, if it succeeds, commits it. With pipelining
// (every dispatch but Deterministic) it may return before the commit is
// durable, having deferred the answer (see commit).
func (a *activation) Receive(ctx context.Context, m *scheduler.Message) ([]byte, error) {
	a.watchTurn(m)
	if a.h.tracer != nil {
		a.span = a.h.tracer.startTurn(a.ref, m)
	}
	reply, err, deferred := a.receive(ctx, m)
	if !deferred {
		a.turnDone(&a.watch, err)
	}
	if a.span != nil {
		if !deferred { // else the pipeline ends it with the commit (finish)
			endSpan(a.span, err)
		}
		a.span = nil
	}
	if a.h.pipelined && !deferred && !a.h.sched.Queued(ctx) {
		// Nothing more to run: leave nothing in flight when the
		// activation goes idle. A failure is the next turn's to handle.
		_ = a.settle(ctx)
	}
	if a.lease != nil && a.lease.lost.Load() {
		a.drop(ctx)
	}
	return reply, err
}

func (a *activation) receive(ctx context.Context, m *scheduler.Message) (_ []byte, _ error, deferred bool) {
	if a.lease != nil {
		if err := a.h.own.check(ctx, a.lease); err != nil {
			if a.lease.lost.Load() {
				a.drop(ctx)
			}
			return nil, a.uncommitted(m, err), false
		}
	}
	if err := a.resync(ctx); err != nil {
		return nil, a.uncommitted(m, err), false
	}
	if m.Key != "" {
		// A keyed message may be a retry of one that already committed,
		// or of one still in the pipeline: that one must be durable first.
		rk := recordKey(a.ref, m.Key)
		if a.p.holds(rk) {
			if err := a.settle(ctx); err != nil {
				return nil, a.uncommitted(m, err), false
			}
		}
		if reply, done, err := a.h.store.Recorded(ctx, rk); err != nil {
			return nil, abi.NewError(abi.CodeUnavailable, "reading the idempotency record: "+err.Error()), false
		} else if done {
			a.consume(ctx, m)
			return reply, nil, false
		}
	}
	var fire *firing
	if m.Reminder != "" {
		// The store says what the reminder is now, once the turns
		// before, which may have changed it, are durable.
		if err := a.settle(ctx); err != nil {
			return nil, a.uncommitted(m, err), false
		}
		f, fm, err := a.prepareFiring(ctx, m)
		if err != nil || f == nil {
			a.watch.skip = f == nil && (err == nil || errors.Is(err, errStaleFiring))
			return nil, err, false // stale, skipped, or the store failed (fired again later)
		}
		fire, m = f, fm
		a.watch.method = m.Method
		if a.span != nil {
			nameTurn(a.span, a.ref, m) // the firing's method is known now
		}
	}
	d := a.typ.current()
	if a.inst == nil || a.inst.v != d.v {
		// The hooks a new instance runs commit on their own, after the
		// turns before them.
		if err := a.settle(ctx); err != nil {
			return nil, a.uncommitted(m, err), false
		}
	}
	if err := a.ensureInstance(ctx, d); err != nil {
		return nil, a.consumeFailed(ctx, m, err, true), false
	}
	t := a.messageTurn(ctx, d, m)
	t.firing = fire
	reply, err := a.call(t)
	if err == nil && t.doomed != nil {
		a.discard(ctx)
		return nil, a.uncommitted(m, t.doomed), false
	}
	if err != nil || reply.Code != "" {
		// A failed turn's answer, and what becomes of a failed tell,
		// may depend on what the turns before it wrote: they must be
		// durable first.
		if serr := a.settle(ctx); serr != nil {
			return nil, a.uncommitted(m, serr), false
		}
	}
	if err != nil {
		return nil, a.consumeFailed(ctx, m, err, true), false
	}
	if reply.Code != "" {
		// The actor answered with an error: its instance is sound, but
		// nothing of the turn is kept, and trying again would not help.
		return nil, a.consumeFailed(ctx, m, abi.NewError(reply.Code, reply.Message), false), false
	}
	out, err, deferred := a.commit(ctx, t, reply.Payload)
	spareTurn(t)
	return out, err, deferred
}

// uncommitted is the error of a message whose turn could not commit, or
// ran on writes that did not: a tell is still in the outbox and is tried
// again, without limit, until the store takes the write (a full disk
// recovers by itself).
func (a *activation) uncommitted(m *scheduler.Message, err error) error {
	if m.IsTell() && !a.h.closing() {
		var ce *storage.ConsumedError
		var ns *NotServedError
		switch {
		case errors.As(err, &ce) && slices.Contains(ce.IDs, m.ID):
			// A second delivery of a message another commit consumed:
			// applied once, not to be tried again.
			a.h.log.Debug("a message delivered twice was applied once", "id", m.ID, "actor", a.ref.String())
		case errors.As(err, &ns) && m.Done != nil:
			// Another node serves the actor now: the message's Done
			// sends it there (see Host.delivered).
		default:
			a.h.retryLater(m)
		}
	}
	return err
}

// newTurn starts a turn of m (or of a hook) on the current instance.
func (a *activation) newTurn(ctx context.Context, d *deployment, m *scheduler.Message, kind abi.RequestKind) *turn {
	t := &turn{a: a, cfg: &d.cfg, inst: a.inst, msg: m, kind: kind, span: a.span}
	t.setCtx(ctx)
	return t
}

// spareTurns holds the structs of message turns that ended, zeroed, for
// the next message's turn of any activation (see messageTurn): a turn
// struct is the largest allocation of a message. A spare kept by each
// activation served only its own next message, and an actor asked once
// (many do, in an activation storm) held its spare for nothing: 650
// bytes more for the collector to mark on every live activation.
var spareTurns sync.Pool

// messageTurn is newTurn for the turn of a message of the activation's
// own (not a nested one, not a hook), in a spare struct when there is one
// (spareTurn).
func (a *activation) messageTurn(ctx context.Context, d *deployment, m *scheduler.Message) *turn {
	t, _ := spareTurns.Get().(*turn)
	if t == nil {
		return a.newTurn(ctx, d, m, abi.KindMessage)
	}
	sends, writes := t.sends, t.writes
	*t = turn{a: a, cfg: &d.cfg, inst: a.inst, msg: m, kind: abi.KindMessage, span: a.span, sends: sends, writes: writes}
	t.setCtx(ctx)
	return t
}

// maxSpareSends and maxSpareWrites bound the array of tells and the map of
// writes a spare turn keeps for the next one (spareTurn): a turn that sent
// or wrote many does not leave that much spare.
const (
	maxSpareSends  = 4
	maxSpareWrites = 8
)

// spareTurn keeps t, a message turn that has ended and committed (or
// failed to), for a next message's turn. Nothing refers to it any more:
// its ctx was for the calls into the guest during the turn, and what the
// pipeline keeps of it (see commit) is copied out, apart from the maps
// and slices it made, which the zeroing drops, not reuses. The exceptions
// are the array of its tells and the map of its writes, emptied and kept
// when small: batch copied the tells into the batch's own Send, and the
// writes, the batch's Puts, were read by the store's Commit, which keeps
// no part of a batch (storagetest's ValuesAreCopied), or copied by the
// pipeline (enqueue), and their values moved into the state (apply).
func spareTurn(t *turn) {
	sends, writes := t.sends, t.writes
	*t = turn{}
	if cap(sends) <= maxSpareSends {
		clear(sends[:cap(sends)])
		t.sends = sends[:0]
	}
	if writes != nil && len(writes) <= maxSpareWrites {
		clear(writes)
		t.writes = writes
	}
	spareTurns.Put(t)
}

// hook runs the activate or deactivate hook of the guest as a turn: its
// state writes, tells, timers and reminders commit like a message's.
func (a *activation) hook(ctx context.Context, kind abi.RequestKind) error {
	return a.runHook(ctx, kind, "")
}

// farewell runs the deactivate hook; the lifecycle messages of the
// activation's end, for reason, commit in the same batch.
func (a *activation) farewell(ctx context.Context, reason string) error {
	return a.runHook(ctx, abi.KindDeactivate, reason)
}

// runHook runs the activate or deactivate hook as a turn; with a reason,
// its commit tells the activation's watchers of its end (see ended).
func (a *activation) runHook(ctx context.Context, kind abi.RequestKind, reason string) error {
	if err := a.settle(ctx); err != nil {
		return err
	}
	t := a.newTurn(ctx, a.typ.current(), &scheduler.Message{ID: a.h.ids.next(), Target: a.ref}, kind)
	reply, err := a.call(t)
	if err != nil {
		return err
	}
	if t.doomed != nil {
		a.discard(ctx)
		return t.doomed
	}
	if reply.Code != "" {
		return abi.NewError(reply.Code, reply.Message)
	}
	b := a.batch(t, nil)
	told := false
	if reason != "" {
		// A failed read leaves the telling to ended, after the hook.
		told, _ = a.addNotices(ctx, b, reason)
	}
	if err := a.commitNow(ctx, t, b); err != nil {
		return err
	}
	if told {
		a.live = false // the deactivation that follows tells nobody again
	}
	return nil
}

// call passes the message to the guest and decodes its reply.
func (a *activation) call(t *turn) (abi.Reply, error) {
	var reply abi.Reply
	m := t.msg
	if int64(len(m.Payload)) > t.cfg.MaxMessage {
		return reply, abi.NewError(abi.CodeTooLarge, "message to "+a.ref.String()+" is over the limit of "+itoa(int(t.cfg.MaxMessage))+" bytes")
	}
	id := m.ID
	if m.Key != "" {
		id = m.Key // the guest sees the sender's key, stable across retries
	}
	req := abi.Request{Kind: t.kind, Method: m.Method, Payload: m.Payload, Sender: refString(m.Sender), ID: id}
	if t.span != nil && t.span.IsRecording() {
		req.Trace = formatTraceparent(t.span.SpanContext()) // the guest sees the trace of a sampled turn
	}
	if a.reqBuf == nil {
		// The activation's first request: made at about its size (64
		// bytes is more than its CBOR heads take) rather than grown from
		// nothing, in four or five appends.
		a.reqBuf = make([]byte, 0, 64+len(req.Method)+len(req.Payload)+len(req.Sender)+len(req.ID)+len(req.Trace))
	}
	a.reqBuf = req.AppendTo(a.reqBuf[:0])
	if t.up == nil {
		a.stderr.reset() // a nested call's output joins its waiting turn's
	}
	inst := t.inst
	t.deadline = monotonic() + t.cfg.TurnTimeout
	stack, err := a.invoke(t)
	if err != nil {
		a.broke(t, err)
		return reply, err
	}
	ptr, n := abi.UnpackPointer(stack[0])
	if int64(n) > t.cfg.MaxMessage+4096 {
		return reply, abi.NewError(abi.CodeTooLarge, "reply of "+a.ref.String()+"."+t.label()+" is over the limit of "+itoa(int(t.cfg.MaxMessage))+" bytes")
	}
	raw, ok := inst.mod.Memory().Read(ptr, n)
	if !ok {
		err := abi.NewError(abi.CodeBadReply, a.ref.String()+"."+t.label()+" returned a reply at "+itoa(int(ptr))+"+"+itoa(int(n))+", outside its memory")
		a.broke(t, err)
		return reply, err
	}
	if derr := reply.Decode(raw); derr != nil {
		err := abi.NewError(abi.CodeBadReply, a.ref.String()+"."+t.label()+" returned a malformed reply: "+derr.Error())
		a.broke(t, err)
		return reply, err
	}
	reply.Payload = bytes.Clone(reply.Payload)
	if int64(len(reply.Payload)) > t.cfg.MaxMessage {
		return reply, abi.NewError(abi.CodeTooLarge, "reply of "+a.ref.String()+"."+t.label()+" is over the limit of "+itoa(int(t.cfg.MaxMessage))+" bytes")
	}
	return reply, nil
}

// invoke writes the request into guest memory and calls wactor_handle,
// translating whatever goes wrong into an *abi.Error. It returns the
// stack that holds the reply's pointer. A nested call (reentry.go) goes
// through exports and a stack of its own, and always asks wactor_alloc
// for its input buffer: the one the instance keeps holds the request of
// a turn still running.
func (a *activation) invoke(t *turn) ([]uint64, error) {
	inst := t.inst
	if t.depth > 0 {
		return a.invokeNested(t)
	}
	stack := inst.stack[:]
	if uint32(len(a.reqBuf)) > inst.inCap {
		if inst.alloc == nil {
			inst.alloc = inst.mod.ExportedFunction(abi.ExportAlloc)
		}
		stack[0] = uint64(len(a.reqBuf))
		if err := t.callAlloc(inst.alloc, stack); err != nil {
			return nil, a.guestFailure(t, abi.ExportAlloc, err)
		}
		inst.inPtr, inst.inCap = uint32(stack[0]), uint32(len(a.reqBuf))
	}
	return stack, a.handle(t, inst.handle, stack, inst.inPtr)
}

// callAlloc calls wactor_alloc (alloc) for t's input buffer with stack,
// refusing the imports the guest calls meanwhile (turn.allocating).
func (t *turn) callAlloc(alloc api.Function, stack []uint64) error {
	t.allocating = true
	defer func() { t.allocating = false }()
	return alloc.CallWithStack(t.ctx, stack)
}

// handle writes the request at ptr, which wactor_alloc returned, and
// calls wactor_handle (handle) with stack.
func (a *activation) handle(t *turn, handle api.Function, stack []uint64, ptr uint32) error {
	if !t.inst.mod.Memory().Write(ptr, a.reqBuf) {
		return abi.NewError(abi.CodeBadReply, abi.ExportAlloc+" returned "+itoa(int(ptr))+", which has no room for "+itoa(len(a.reqBuf))+" bytes in guest memory")
	}
	stack[0], stack[1] = uint64(ptr), uint64(len(a.reqBuf))
	if err := handle.CallWithStack(t.ctx, stack); err != nil {
		return a.guestFailure(t, abi.ExportHandle, err)
	}
	return nil
}

// guestFailure names why a call into the guest failed.
func (a *activation) guestFailure(t *turn, export string, err error) error {
	where := a.ref.String() + "." + t.label()
	var v *violation
	if errors.As(err, &v) {
		return abi.NewError(abi.CodeBadReply, where+": "+v.msg)
	}
	var nb *nestedBroke
	if errors.As(err, &nb) {
		e := asABIError(nb.err)
		// Each turn the break unwinds says so once: the innermost
		// reason, not one prefix per level it went through.
		const broke = ": a nested call broke the instance: "
		msg := e.Message
		if i := strings.LastIndex(msg, broke); i >= 0 {
			msg = msg[i+len(broke):]
		}
		return abi.NewError(e.Code, where+broke+msg)
	}
	if t.timedOut {
		return abi.NewError(abi.CodeTurnTimeout, where+" ran past its execution limit of "+t.cfg.TurnTimeout.String())
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		if nearMemoryLimit(t) {
			return abi.NewError(abi.CodeMemoryExhausted, where+" exhausted its memory limit of "+itoa(int(t.cfg.MaxMemory))+" bytes"+a.stderr.suffix())
		}
		return abi.NewError(abi.CodeTrapped, where+" exited with code "+itoa(int(exit.ExitCode()))+a.stderr.suffix())
	}
	if nearMemoryLimit(t) {
		return abi.NewError(abi.CodeMemoryExhausted, where+" exhausted its memory limit of "+itoa(int(t.cfg.MaxMemory))+" bytes"+a.stderr.suffix())
	}
	msg, _, _ := strings.Cut(err.Error(), "\n") // drop wazero's stack trace
	return abi.NewError(abi.CodeTrapped, where+" trapped in "+export+": "+msg+a.stderr.suffix())
}

// nearMemoryLimit guesses that a guest failed for lack of memory when its
// memory is within 1 MiB of the limit: runtimes ask for memory in chunks, so
// the last failed grow leaves some headroom.
func nearMemoryLimit(t *turn) bool {
	mem := t.inst.mod.Memory()
	return mem != nil && int64(mem.Size())+1<<20 >= t.cfg.MaxMemory
}

// commit makes the turn durable: state writes, reminders, outgoing tells
// and the consumption of the message, in one batch; then sets its timers
// and delivers its tells (see effects). With pipelining the batch joins
// the pipeline and the turn's writes become the activation's state at
// once; the answer waits for the commit, and Receive returns first, with
// the answer deferred, as soon as another message waits.
func (a *activation) commit(ctx context.Context, t *turn, reply []byte) (_ []byte, _ error, deferred bool) {
	if t.forward != nil {
		return a.commitForward(ctx, t)
	}
	if t.deactivate && a.live {
		reply, err := a.commitDeactivating(ctx, t, reply)
		return reply, err, false
	}
	b := a.batch(t, reply)
	if !a.h.pipelined || (!a.p.handOff() && !a.h.sched.Queued(ctx)) {
		// Nothing to overlap the commit with, or nothing to gain.
		if err := a.commitNow(ctx, t, b); err != nil {
			return nil, a.uncommitted(t.msg, err), false
		}
		return reply, nil, false
	}
	if b.Empty() && a.p.idle() {
		// Nothing to write, and the state it read is durable.
		a.effects(ctx, t.timers, t.deactivate)
		return reply, nil, false
	}
	a.apply(t.writes)
	e := &entry{ctx: ctx, m: t.msg, label: t.label(), reply: reply, timers: t.timers, deactivate: t.deactivate, watch: a.watch, span: t.span}
	if len(b.Records) > 0 {
		e.key = b.Records[0].Key
	}
	for _, op := range t.timers {
		if op.spec != nil {
			e.sets++
		}
	}
	if err := a.enqueue(e, b); err != nil {
		return nil, a.uncommitted(t.msg, err), false
	}
	if !a.h.sched.Queued(ctx) {
		if done := a.p.doneOf(e); done != nil {
			a.h.sched.AwaitQueued(ctx, done)
		}
	}
	if a.p.answerLater(e) {
		return nil, nil, true
	}
	if e.err != nil {
		return nil, a.uncommitted(t.msg, e.err), false
	}
	return reply, nil, false
}

// batch is what the turn commits.
func (a *activation) batch(t *turn, reply []byte) *storage.Batch {
	b := &t.batch
	*b = storage.Batch{Actor: a.selfString()}
	if a.lease != nil {
		b.Fence = a.lease.fence
	}
	if t.msg.Key != "" {
		b.Records = []storage.Record{{Key: recordKey(a.ref, t.msg.Key), Reply: reply, Expires: time.Now().Add(a.h.retention)}}
	}
	if !hasDelete(t.writes) {
		// The turn's writes are the batch's puts as they are: the
		// turn is over, and the map is only read from now on (by the
		// store, and by apply), or merged into by the pipeline's
		// group, which is what Batch.Merge does with a batch's Puts.
		if len(t.writes) > 0 {
			b.Puts = t.writes
		}
	} else {
		for k, v := range t.writes {
			if v == nil {
				b.Deletes = append(b.Deletes, k)
			} else {
				if b.Puts == nil {
					b.Puts = make(map[string][]byte, len(t.writes))
				}
				b.Puts[k] = v
			}
		}
	}
	if len(t.sends) > 0 {
		b.Send = t.sent[:0]
		if len(t.sends) > len(t.sent) {
			b.Send = make([]storage.Message, 0, len(t.sends))
		}
		for _, s := range t.sends {
			b.Send = append(b.Send, storage.Message{ID: a.h.ids.next(), Target: s.target, Sender: a.selfString(), Method: s.method, Payload: s.payload, Trace: s.trace})
		}
	}
	if t.kind == abi.KindMessage && t.msg.IsTell() {
		t.consumed[0] = t.msg.ID
		b.Consumed = t.consumed[:]
		// In a cluster a message may reach its target twice (its sender
		// and a sweep both deliver it): only the first commit consumes it.
		b.ConsumeOnce = a.h.own != nil
	}
	a.reminderChanges(t, b)
	a.watchChanges(t, b)
	a.topicChanges(t, b)
	return b
}

// hasDelete reports whether writes deletes a key (holds a nil value).
func hasDelete(writes map[string][]byte) bool {
	for _, v := range writes {
		if v == nil {
			return true
		}
	}
	return false
}

// commitNow commits the turn's batch and waits for it, with nothing in
// the pipeline; then applies the turn's writes and releases its effects.
func (a *activation) commitNow(ctx context.Context, t *turn, b *storage.Batch) error {
	if !b.Empty() {
		a.p.mu.Lock()
		b.Version = a.p.version
		a.p.mu.Unlock()
		resume := a.h.sched.Blocking(ctx) // waits for the group's write
		start := monotonic()
		err := a.h.store.Commit(ctx, b)
		took := monotonic() - start
		a.p.committed(took)
		a.h.committed(1, took, err)
		resume()
		if err != nil {
			a.discard(ctx) // its memory reflects a turn that did not commit
			msg := "committing the turn of " + a.ref.String() + "." + t.label() + ": " + err.Error()
			if a.lease != nil && a.h.own.fenced(a.lease, err) {
				a.drop(ctx)
				return notServedError("", msg) // nothing applied: another node serves it now
			} else if errors.Is(err, storage.ErrVersionConflict) {
				// Someone else wrote this actor: what we hold is stale.
				a.reload(ctx)
			}
			return refused(abi.NewError(abi.CodeUnavailable, msg), err)
		}
	}
	if b.ChangesState() {
		a.apply(t.writes)
		a.p.mu.Lock()
		a.p.version++
		a.p.mu.Unlock()
	}
	a.effects(ctx, t.timers, t.deactivate)
	a.h.rem.committed(b.Reminders, b.Actor, b.CancelReminders)
	a.h.sent(a.ref.Type, KindTell, len(b.Send))
	if t.kind == abi.KindMessage && t.up == nil {
		// The message's turn ends with this commit: an idle target
		// may run next on this goroutine (see scheduler.Scheduler.Tell).
		// A hook's commit is followed by more of the turn.
		a.h.deliverFrom(ctx, b.Send)
	} else {
		a.h.deliver(b.Send)
	}
	return nil
}

// apply makes a turn's writes the activation's state.
func (a *activation) apply(writes map[string][]byte) {
	for k, v := range writes {
		if v == nil {
			delete(a.state, k)
		} else {
			a.state[k] = v
		}
	}
}

// effects sets and cancels the timers of a committed turn and honours its
// request to deactivate. ctx is the scheduler's, of the turn.
func (a *activation) effects(ctx context.Context, timers []timerOp, deactivate bool) {
	for _, op := range timers {
		if op.spec == nil {
			a.h.sched.CancelTimer(ctx, op.name)
		} else if err := a.h.sched.SetTimer(ctx, *op.spec); err != nil {
			a.h.log.Error("setting a timer", "actor", a.ref.String(), "timer", op.name, "err", err)
		}
	}
	if deactivate {
		a.h.sched.DeactivateAfterTurn(ctx)
	}
}

// reminderChanges adds to b what the turn does to reminders: the move of
// the reminder it fires to its next time (or its deletion), then the
// guest's own sets and cancels, which win.
func (a *activation) reminderChanges(t *turn, b *storage.Batch) {
	if t.firing == nil && len(t.reminders) == 0 {
		return
	}
	ops := make(map[string]*storage.Reminder, len(t.reminders)+1)
	if f := t.firing; f != nil {
		ops[f.r.Name] = f.next
	}
	for name, r := range t.reminders {
		ops[name] = r
	}
	for name, r := range ops {
		if r == nil {
			b.CancelReminders = append(b.CancelReminders, name)
		} else {
			b.Reminders = append(b.Reminders, *r)
		}
	}
}

// reload replaces the activation's state with what the store holds.
func (a *activation) reload(ctx context.Context) {
	snap, err := a.h.store.Load(ctx, a.ref.String())
	if err != nil {
		a.h.log.Error("reloading state after a version conflict", "actor", a.ref.String(), "err", err)
		return
	}
	if snap.State == nil {
		snap.State = make(map[string][]byte)
	}
	a.state = snap.State
	a.p.mu.Lock()
	a.p.version = snap.Version
	a.p.mu.Unlock()
}

// consumeFailed handles a failed turn. An ask's caller gets the error, as
// does the reminders loop for a reminder firing (it fires it again later).
// A timer tick is dropped. A tell has nobody to tell: when retry is set
// (the guest broke) it is tried again with backoff; after its last
// attempt, or when the actor itself answered with an error, it moves from
// the outbox to the dead letters, in one commit, with its error.
func (a *activation) consumeFailed(ctx context.Context, m *scheduler.Message, err error, retry bool) error {
	if m.Timer != "" {
		a.h.log.Warn("timer tick failed", "actor", a.ref.String(), "timer", m.Timer, "method", m.Method, "err", err)
	}
	if !m.IsTell() {
		return err
	}
	if retry && a.h.closing() {
		return err // still in the outbox: the next run delivers it again
	}
	if retry && m.Attempt < maxAttempts {
		a.h.retryLater(m)
		return err
	}
	resume := a.h.sched.Blocking(ctx)
	defer resume()
	a.h.keepDeadLetter(ctx, a.ref, m, err)
	return err
}

// consume removes a tell from the outbox without a turn.
func (a *activation) consume(ctx context.Context, m *scheduler.Message) {
	if !m.IsTell() {
		return
	}
	resume := a.h.sched.Blocking(ctx)
	defer resume()
	if err := a.h.store.Commit(ctx, &storage.Batch{Consumed: []string{m.ID}}); err != nil {
		a.h.log.Error("consuming a tell", "id", m.ID, "err", err)
	}
}

// ensureInstance builds an instance if the activation has none or runs an
// older module version than the type's current one, and runs the guest's
// activate hook on it: after the activation's state is loaded, each time
// an instance is built (first activation, after the guest broke, after a
// deploy). A failing hook fails the new instance.
func (a *activation) ensureInstance(ctx context.Context, d *deployment) error {
	if a.inst != nil && a.inst.v == d.v {
		return nil
	}
	if a.inst != nil {
		// A new version was deployed. The old code takes its leave as it
		// would on deactivation, so that what its hook saves is there for
		// the new code's activate hook; a failing hook is only logged, as
		// on deactivation.
		if err := a.farewell(ctx, abi.ReasonRedeployed); err != nil {
			a.h.log.Warn("deactivate hook of the replaced version failed", "actor", a.ref.String(), "err", err)
		}
		a.ended(ctx, abi.ReasonRedeployed)
	}
	a.discard(ctx)
	start := time.Now()
	inst, err := d.v.instantiate(ctx, &a.stderr)
	if err != nil {
		return abi.NewError(abi.CodeTrapped, "starting an instance of "+a.ref.String()+": "+err.Error()+a.stderr.suffix())
	}
	a.inst = inst
	// An instance of a snapshot whose guest said it does nothing on
	// activation (abi.ExportActivateHook) skips the hook: its turn would
	// call into the guest for an empty success and commit nothing.
	if d.v.snap == nil || !d.v.snap.noActivate {
		if err := a.hook(ctx, abi.KindActivate); err != nil {
			a.discard(ctx)
			e := asABIError(err)
			return abi.NewError(e.Code, "activating "+a.ref.String()+": "+e.Message)
		}
	}
	d.v.started(inst)
	a.live = true
	if a.h.obs != nil {
		a.h.obs.InstanceStarted(a.ref.Type, time.Since(start))
	}
	return nil
}

// MemoryInUse returns the resident bytes of the instance's linear memory
// (instance.resident), for the scheduler's guest memory budget. Without an
// instance (the guest broke) it returns what the next one, built at the
// next turn, will reserve.
func (a *activation) MemoryInUse() int64 {
	if a.inst != nil {
		return a.inst.resident() + a.readerMemory()
	}
	return a.typ.current().v.startSize.Load() + a.readerMemory()
}

func (a *activation) discard(ctx context.Context) {
	if a.inst != nil {
		a.inst.close(ctx)
		a.inst = nil
	}
}

// Deactivate ends the activation: it runs the guest's deactivate hook, if
// the activation has a sound instance, then drops the instance. A failing
// hook is logged; the activation ends anyway.
func (a *activation) Deactivate(ctx context.Context) {
	if a.h.obs != nil {
		defer a.h.obs.ActivationEnded(a.ref.Type, scheduler.DeactivationReason(ctx))
	}
	if a.settle(ctx) != nil {
		a.discard(ctx) // its memory reflects turns that did not commit
	}
	if a.inst != nil && (a.lease == nil || !a.lease.lost.Load()) {
		if err := a.farewell(ctx, scheduler.DeactivationReason(ctx)); err != nil {
			a.h.log.Warn("deactivate hook failed", "actor", a.ref.String(), "err", err)
		}
	}
	a.discard(ctx)
	a.discardReader(ctx)
	a.ended(ctx, scheduler.DeactivationReason(ctx))
	if a.lease != nil {
		a.h.own.release(ctx, a.lease, a.h.log.Warn)
	}
}

// drop ends an activation whose lease was lost: its instance is
// discarded at once, and the scheduler deactivates it after this turn
// (without its deactivate hook, whose commit would be refused).
func (a *activation) drop(ctx context.Context) {
	a.discard(ctx)
	a.h.sched.DeactivateAfterTurn(ctx)
}

func refString(r abi.Ref) string {
	if r.IsZero() {
		return ""
	}
	return r.String()
}

// outputBuffer keeps the first bytes a guest wrote to stdout or stderr in
// the current turn, so that a trap's error can say what the guest printed:
// a Go panic or "fatal error: out of memory" comes first, before the long
// goroutine dump that follows it.
type outputBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const outputMax = 512

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := outputMax - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *outputBuffer) reset() {
	b.mu.Lock()
	b.buf = b.buf[:0]
	b.mu.Unlock()
}

// suffix returns what the guest printed, for an error message.
func (b *outputBuffer) suffix() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(string(b.buf))
	if s == "" {
		return ""
	}
	if first, _, more := strings.Cut(s, "\n\n"); more {
		s = first // the panic, without the stack dump
	}
	return " (guest output: " + s + ")"
}
