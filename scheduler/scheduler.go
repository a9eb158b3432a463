package scheduler

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/wactor/wactor/abi"
)

// Message is one message to an actor.
type Message struct {
	ID      string
	Target  abi.Ref
	Sender  abi.Ref // zero when the message comes from outside
	Method  string
	Payload []byte
	// Key is the sender's idempotency key, or "".
	Key string
	// Attempt counts deliveries of this message, starting at 1.
	Attempt int
	// Timer is the name of the timer whose tick this message is, or "".
	// The scheduler makes these messages itself (see SetTimer).
	Timer string
	// Reminder is the name of the durable reminder whose firing this
	// message is, or "". The scheduler does not look at it; the host does.
	Reminder string
	// Due is when a timer tick or reminder firing was due.
	Due time.Time
	// Trace is the W3C trace context (a traceparent value) the message's
	// turn continues, or "". The scheduler does not look at it.
	Trace string
	// Chain lists the actors whose asks led to this message, the first
	// caller first, when the host tracks call chains across nodes; the
	// scheduler does not look at it.
	Chain []string
	// Timeout, when positive, bounds how long Ask waits for the reply, as
	// a deadline on its ctx would, without deriving a context per ask.
	Timeout time.Duration
	// Done, when set, is called with the outcome of a tell's turn, as an
	// ask's caller would get it: in the goroutine that ran the turn (or
	// failed the message, or answered it after Defer), so it must not
	// block.
	Done func(payload []byte, err error)

	reply    chan result // nil for tells
	timer    *timerEntry // the timer of a tick
	deferred bool        // Receive took the answer upon itself (Defer)
	// asker is the key of the activation whose turn waits for the
	// reply to this ask; zero when the ask comes from outside. See
	// Forward.
	asker abi.Ref
	to    *activation // where send put the message
	// from is the activation whose turn sends this tell, while it is in
	// Receive; cleared once enqueued. See runNext.
	from *activation
	fwd  *Message // the ask this one was forwarded as, if it was
	// up is, for an ask made in a turn, the message that turn processes:
	// following up from message to message walks the call chain back to
	// its first turn (see reentry.go). Nil for a message from outside.
	up *Message
	// own is set by an ask from outside any turn that offers to run
	// the turn itself, and kept by enqueue when the target was idle and
	// left to the asker to run (runAsk); cleared otherwise.
	own bool
	// canWait is how long the asker that offers its goroutine can wait
	// (see TypeOptions.TurnLimit).
	canWait time.Duration
	// token names the turn that processes this message to other nodes,
	// made when first asked for (ChainToken); viaToken, on an ask from
	// another node, is the token of the turn whose chain it is on.
	token, viaToken string
}

// Defer, called by Receive, takes the answer of m out of the scheduler's
// hands: what Receive returns is then ignored, and the returned function
// answers m instead, later and from any goroutine. It must be called
// exactly once. An actor defers when the outcome of a turn is not known
// when Receive returns (its commit is still in flight) and it wants to run
// the next turns meanwhile.
func (m *Message) Defer() (answer func(payload []byte, err error)) {
	m.deferred = true
	return m.answer
}

type result struct {
	payload []byte
	err     error
}

// IsAsk reports whether the sender waits for a reply.
func (m *Message) IsAsk() bool { return m.reply != nil }

// IsTell reports whether m is a one-way message from an actor or from
// outside: neither an ask nor a timer tick nor a reminder firing.
func (m *Message) IsTell() bool { return m.reply == nil && m.Timer == "" && m.Reminder == "" }

// Actor is the behaviour of one activation. The scheduler calls its methods
// from one goroutine at a time.
type Actor interface {
	// Receive processes one message: a turn. The returned payload is the
	// reply to an ask (ignored for a tell). ctx identifies the turn: pass it
	// to Scheduler.Ask and Scheduler.DeactivateAfterTurn.
	Receive(ctx context.Context, m *Message) ([]byte, error)
	// Deactivate ends the activation; it is called once, after its last
	// turn. ctx identifies the activation like a turn's, so that a
	// deactivation hook can ask and block as a turn does.
	Deactivate(ctx context.Context)
}

// TypeOptions are the scheduler's settings for one actor type.
type TypeOptions struct {
	// Mailbox bounds the messages waiting for an activation (default 1024).
	Mailbox int
	// IdleTimeout deactivates an activation that has had no message for this
	// long (default 5 minutes).
	IdleTimeout time.Duration
	// Memory is the bytes a new activation of the type is expected to take
	// (0: none). It is reserved against Config.MemoryBudget before the
	// Activator is called, so that the budget is checked before the memory
	// is allocated; an Actor that is a MemoryReporter then reports what it
	// really holds.
	Memory int64
	// MaxLocal, when above zero, makes the type a stateless worker: up to
	// MaxLocal activations of one actor run on this scheduler at once,
	// each with its own mailbox. A message goes to an idle one, or starts
	// a new one while there are fewer than MaxLocal; when all are busy it
	// joins the shortest mailbox. Each is collected on its own after the
	// idle timeout. Zero: one activation per actor, one turn at a time.
	MaxLocal int
	// Reentrant makes the type's activations re-enterable along a call
	// chain (see ReentrantActor): while a turn waits in an ask, an ask on
	// that turn's call chain that comes back to the activation runs
	// nested in it instead of failing with abi.ErrDeadlock. Its Actor
	// must be a ReentrantActor. Ignored for a stateless worker.
	Reentrant bool
	// TurnLimit is how long one turn of the type may run, as far as the
	// scheduler is told (the host's execution limit). An ask from outside
	// any turn to an activation that is idle, or new, then runs that one
	// turn on the asker's goroutine, which would only wait for the reply
	// otherwise, instead of handing it to another goroutine; only when
	// the asker can wait at least this long, less askerSlack (its ctx's
	// deadline and Message.Timeout), since it cannot give up in the
	// middle of the turn. Zero: every turn runs on the dispatcher's
	// goroutines. See Dispatch.
	TurnLimit time.Duration
}

// Defaults for TypeOptions fields left zero.
const (
	DefaultMailbox     = 1024
	DefaultIdleTimeout = 5 * time.Minute
)

// DefaultMaxActivations is the cap on live activations when
// Config.MaxActivations is zero: enough for a busy node, small enough that
// what each activation costs beyond its memory (its table entry, loaded
// state, timers, the idle sweep's visit) stays bounded.
const DefaultMaxActivations = 10_000

// MemoryReporter is implemented by an Actor that can say how many bytes it
// holds (a WebAssembly instance: its linear memory). The scheduler asks
// after the activation is created and after each turn, from the goroutine
// running the activation, and counts the answer against
// Config.MemoryBudget in place of TypeOptions.Memory.
type MemoryReporter interface {
	MemoryInUse() int64
}

// Activator creates activations; the host implements it.
type Activator interface {
	// TypeOptions returns the settings of an actor type, or an error with
	// code unknown_type when there is no such type.
	TypeOptions(typ string) (TypeOptions, error)
	// Activate creates the activation of ref: loads its state and builds
	// whatever runs its turns. ctx identifies the new activation like a
	// turn's, so that an activation hook can set timers, ask and block.
	Activate(ctx context.Context, ref abi.Ref) (Actor, error)
}

// Config configures a Scheduler.
type Config struct {
	Activator Activator
	// Batch is how many messages an activation processes per scheduling
	// slot before it yields to others (default 32).
	Batch int
	// Dispatch chooses how activations get CPU time (default Goroutines).
	Dispatch Dispatch
	// SweepInterval is how often idle activations are collected
	// (default 1s; negative disables the sweeper, for tests that call
	// CollectIdle themselves).
	SweepInterval time.Duration
	// Clock gives the time and runs timers (default RealClock).
	Clock Clock
	// Now is the clock of idle collection (default Clock.Now).
	Now func() time.Time
	// MaxActivations caps the live activations (0: DefaultMaxActivations;
	// negative: no cap). Creating one more first deactivates the least
	// recently used idle activation; an activation with queued messages or
	// a turn in progress is never evicted, so when every activation is
	// busy the new one is refused with abi.ErrUnavailable.
	MaxActivations int
	// MemoryBudget bounds the bytes held by all live activations together
	// (0 or negative: no budget), as TypeOptions.Memory reserves them and
	// MemoryReporter reports them. A new activation that does not fit
	// first deactivates least recently used idle activations, and is
	// refused with abi.ErrUnavailable when busy ones hold too much. An
	// activation that grows past the budget during a turn makes idle ones
	// go once it is idle itself.
	MemoryBudget int64
	// NewID makes the ids of timer ticks (default: a counter).
	NewID  func() string
	Logger *slog.Logger
}

// Scheduler owns the activations of every actor in one process.
type Scheduler struct {
	cfg        Config
	ctx        context.Context // cancelled by Close once turns are done
	cancel     context.CancelFunc
	dispatcher dispatcher
	unblock    func()         // dispatcher.unblock, made once: Blocking returns it for every commit
	wg         sync.WaitGroup // every goroutine the scheduler starts

	mu       sync.Mutex
	acts     map[abi.Ref]*activation   // by key: the ref, or a worker's slot key
	retiring map[abi.Ref]chan struct{} // by key; closed when the old activation has deactivated
	// workers are the activations of stateless worker actors by slot
	// (TypeOptions.MaxLocal); nil slots are free.
	workers map[abi.Ref][]*activation
	closed  atomic.Bool // set under mu

	// busy counts the activations scheduled or running a batch. It
	// changes at every start and end of an activation's work, twice per
	// hop of a chain of tells, so it is an atomic; busyMu is taken only
	// to wait for zero and to wake those who wait (busyZero).
	busy     atomic.Int64
	busyMu   sync.Mutex
	busyZero *sync.Cond

	waitMu sync.Mutex
	waits  map[abi.Ref]abi.Ref // activation -> actor its current turn is asking

	// mem is the memory the live activations hold, reserved or reported,
	// plus that of activations that retired on their own and have not
	// yet deactivated (see evictLocked).
	mem atomic.Int64

	// lru lists the idle activations, most recently used first, with
	// their number and memory. Lock order: s.mu, then a.mu, then lruMu;
	// never a.mu under lruMu.
	lruMu   sync.Mutex
	lruHead *activation
	lruTail *activation
	idle    int
	idleMem int64

	tickIDs atomic.Uint64 // for the default NewID

	// nextSweep is when the first activation may be due for collection,
	// in nanoseconds of Config.Now since epoch: a bound the sweeper
	// skips its passes until (see sweepBy). A turn only puts an
	// activation's due time off, so the bound stays good until a new
	// activation, a request to deactivate or a clock that stepped back
	// (idleLocked) brings it forward.
	nextSweep atomic.Int64
	epoch     time.Time

	stopSweep chan struct{}
}

// New returns a running Scheduler.
func New(cfg Config) *Scheduler {
	if cfg.Batch <= 0 {
		cfg.Batch = 32
	}
	if cfg.Dispatch.Deterministic {
		cfg.SweepInterval = -1 // a sweeper would run turns' deactivations on its own goroutine
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock
	}
	if cfg.Now == nil {
		cfg.Now = cfg.Clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxActivations == 0 {
		cfg.MaxActivations = DefaultMaxActivations
	}
	s := &Scheduler{
		cfg:       cfg,
		acts:      make(map[abi.Ref]*activation),
		retiring:  make(map[abi.Ref]chan struct{}),
		workers:   make(map[abi.Ref][]*activation),
		waits:     make(map[abi.Ref]abi.Ref),
		stopSweep: make(chan struct{}),
	}
	if s.cfg.NewID == nil {
		s.cfg.NewID = func() string { return "tick-" + strconv.FormatUint(s.tickIDs.Add(1), 10) }
	}
	s.epoch = cfg.Now()
	s.nextSweep.Store(math.MaxInt64)
	s.busyZero = sync.NewCond(&s.busyMu)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.dispatcher = cfg.Dispatch.start(s)
	s.unblock = s.dispatcher.unblock
	if cfg.SweepInterval > 0 {
		s.goFunc(s.sweep)
	}
	return s
}

// goFunc runs f in a goroutine that Close waits for.
func (s *Scheduler) goFunc(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// ErrClosed is the error of a message the scheduler refused, or dropped
// from a mailbox, because it is closing: its turn never ran. It is this
// one value, so that a caller can tell it apart from the failure of a
// turn that ran (compare the pointer; errors.Is matches every
// unavailable error).
var ErrClosed = abi.NewError(abi.CodeUnavailable, "scheduler is shutting down")

var errClosed = ErrClosed

// Tell enqueues m for its target and returns without waiting for the turn.
// It fails with unknown_type, mailbox_full or unavailable. Called with the
// ctx of a turn, on the goroutine running it, as its last act (the turn's
// commit), it may leave a target that was idle to that goroutine, to run
// once the sender's batch is over, rather than wake another one.
func (s *Scheduler) Tell(ctx context.Context, m *Message) error {
	if m.Attempt == 0 {
		m.Attempt = 1
	}
	from := turnFrom(ctx)
	if from == nil || !from.receiving.Load() {
		_, err := s.send(m, nil)
		return err
	}
	m.from = from
	if to := from.told.Value(); to != nil && to.ref == m.Target && !s.closed.Load() {
		m.to = to
		if ok, err := to.enqueue(m); ok || err != nil {
			return err
		}
		m.from = from // to retired: its successor, if any, is in the table
	}
	to, err := s.send(m, nil)
	if to != nil && to.slot < 0 {
		from.told = to.weakSelf
	}
	return err
}

// send enqueues m for its target's activation and returns it. before,
// when set, is called with the activation chosen before m is enqueued;
// an error from it is returned and m is not enqueued.
func (s *Scheduler) send(m *Message, before func(a *activation) error) (*activation, error) {
	for {
		a, err := s.activation(m.Target)
		if err != nil {
			return nil, err
		}
		if before != nil {
			if err := before(a); err != nil {
				return nil, err
			}
		}
		m.to = a
		ok, err := a.enqueue(m)
		if ok || err != nil {
			return a, err
		}
		// a retired between lookup and enqueue; look again.
	}
}

// Ask enqueues m and waits for the reply, or for ctx to end or
// m.Timeout to pass. Called from
// inside a turn (with the turn's ctx), it fails at once with abi.ErrDeadlock
// when the target is waiting, directly or through others, on the caller,
// unless the target is reentrant and its waiting turn is on the caller's
// call chain: the ask then runs nested in that turn (see ReentrantActor).
func (s *Scheduler) Ask(ctx context.Context, m *Message) ([]byte, error) {
	reply, _, err := s.ask(ctx, m, false)
	return reply, err
}

// AskNested is Ask for an ask that runs nested (see ReentrantActor), and
// only for one: when m, asked in the turn of ctx, is not on the call
// chain of a waiting turn of its target on this scheduler, it sends
// nothing and reports false. A host that routes asks between nodes asks
// here first, so that a chain that stays on this node nests.
func (s *Scheduler) AskNested(ctx context.Context, m *Message) ([]byte, bool, error) {
	return s.ask(ctx, m, true)
}

// AskNestedIn is AskNested for an ask whose call chain is known by name
// only (it came from another node): it nests when its target's waiting
// turn is the one ChainToken named token.
func (s *Scheduler) AskNestedIn(ctx context.Context, m *Message, token string) ([]byte, bool, error) {
	if token == "" {
		return nil, false, nil
	}
	m.viaToken = token
	return s.ask(ctx, m, true)
}

func (s *Scheduler) ask(ctx context.Context, m *Message, onlyNested bool) ([]byte, bool, error) {
	if onlyNested && turnFrom(ctx) == nil && m.viaToken == "" {
		return nil, false, nil
	}
	if m.Attempt == 0 {
		m.Attempt = 1
	}
	m.reply = make(chan result, 1)
	var before func(a *activation) error
	caller := turnFrom(ctx)
	var nestWake <-chan struct{} // a nested ask for the caller waits
	if caller != nil {
		m.asker = caller.key
		m.up = caller.cur
		if caller.reentrant() {
			nestWake = caller.beginWait(ctx)
			defer caller.endWait()
		}
		// The wait-for graph links activations, by key, so that a cycle
		// through one instance of a stateless worker is found too.
		before = func(a *activation) error {
			s.stopWaiting(caller.key) // a retry of send after a retirement
			return s.startWaiting(caller.key, a.key)
		}
		defer s.stopWaiting(caller.key)
	}
	target, nested, err := s.nest(m)
	if err != nil {
		return nil, true, err
	}
	if !nested {
		if onlyNested {
			return nil, false, nil
		}
		if caller == nil {
			s.offer(ctx, m)
		}
		if target, err = s.send(m, before); err != nil {
			return nil, true, err
		}
	}
	var expired <-chan time.Time
	if m.Timeout > 0 {
		t := startTimer(m.Timeout)
		defer stopTimer(t)
		expired = t.C
	}
	if d, ok := s.dispatcher.(*inline); ok {
		reply, err := s.runUntilAnswered(ctx, d, caller, target, m, expired)
		return reply, true, err
	}
	if m.own {
		// The target was idle and is this goroutine's to run, for this
		// turn only. The ask ends as it would have had it waited: a
		// reply that came after its deadline is not taken.
		m.own = false
		target.runAsk()
		select {
		case <-expired:
			return nil, true, askTimedOut(m)
		default:
		}
		if ctx.Err() != nil {
			return nil, true, askDone(ctx, m)
		}
	}
	// Answered already (the turn ran above, or was quicker than this
	// goroutine): take the reply with one channel's receive, not the
	// select below, which locks every channel it waits on and puts the
	// ask's timer in the runtime's timer heap. An ask whose ctx has ended
	// fails with ctx's error even when the reply is there, as an ask run
	// above does: the select below would pick either at random.
	select {
	case r := <-m.reply:
		if ctx.Err() != nil {
			return nil, true, askDone(ctx, m)
		}
		return r.payload, true, r.err
	default:
	}
	var readOnly <-chan struct{} // read-only asks to the caller may run meanwhile
	if caller != nil {
		s.dispatcher.yieldNext(caller) // what it told must not wait for this ask
		s.dispatcher.block()
		defer s.dispatcher.unblock()
		if readOnly = caller.waitReadOnly(); readOnly != nil {
			defer caller.stopReadOnly()
		}
	}
	for {
		select {
		case r := <-m.reply:
			return r.payload, true, r.err
		case <-ctx.Done():
			return nil, true, askDone(ctx, m)
		case <-expired:
			return nil, true, askTimedOut(m)
		case <-readOnly:
			caller.serveReadOnly(ctx)
		case <-nestWake:
			caller.serveNested()
		}
	}
}

// askerSlack is how much less than TypeOptions.TurnLimit an asker may
// be able to wait and still run its target's turn: a deadline set for
// exactly the turn limit a moment before (a cluster's host sets the ask
// timeout as its call's deadline before routing it) has already lost
// that moment when the ask arrives.
const askerSlack = 10 * time.Millisecond

// offer marks m, an ask from outside any turn, as one whose turn the
// asking goroutine may run itself when its target is idle (see
// TypeOptions.TurnLimit): with the goroutines dispatch only (a worker
// pool bounds the goroutines that run turns; Deterministic dispatch runs
// them on the asker anyway), and only while ctx is live.
func (s *Scheduler) offer(ctx context.Context, m *Message) {
	if _, ok := s.dispatcher.(*goroutines); !ok || ctx.Err() != nil {
		return
	}
	wait := time.Duration(math.MaxInt64)
	if m.Timeout > 0 {
		wait = m.Timeout
	}
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d))
	}
	m.own, m.canWait = true, wait
}

// timers are the stopped timers of asks that ended, for the next asks: a
// new timer costs three allocations, on every ask from outside (Host.Ask
// bounds each by its type's ask timeout). Since Go 1.23 a timer that
// Stop stopped delivers nothing stale after Reset.
var timers = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// startTimer returns a timer that fires after d.
func startTimer(d time.Duration) *time.Timer {
	t := timers.Get().(*time.Timer)
	t.Reset(d)
	return t
}

// stopTimer stops t and keeps it for startTimer.
func stopTimer(t *time.Timer) {
	t.Stop()
	timers.Put(t)
}

// askDone is the error of an ask whose ctx ended first.
func askDone(ctx context.Context, m *Message) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return askTimedOut(m)
	}
	return ctx.Err()
}

func askTimedOut(m *Message) error {
	return abi.NewError(abi.CodeTimeout, "no reply from "+m.Target.String()+" to "+m.Method+" in time")
}

// runUntilAnswered runs the turns of a, m's target, on this goroutine, the
// nested asks handed to a or to caller (see ReentrantActor), and
// the read-only asks to caller (see ReadOnlyActor), until
// one answers m. When the target is not queued, another goroutine driving
// the scheduler is running it (one on this goroutine's stack would be an
// ask cycle, which the wait-for graph has refused), so the ask waits for
// the reply, or for ctx to end, checking now and then whether the target
// was queued again.
func (s *Scheduler) runUntilAnswered(ctx context.Context, d *inline, caller, a *activation, m *Message, expired <-chan time.Time) ([]byte, error) {
	var poll *time.Ticker
	for {
		select {
		case r := <-m.reply:
			return r.payload, r.err
		default:
		}
		if _, ran := d.runOne(lastHop(m).to); ran {
			continue
		}
		// A nested ask handed to the target, or to the caller, runs here:
		// the turn it nests in waits further up this goroutine's stack.
		if lastHop(m).to.serveNested() || (caller != nil && caller.serveNested()) {
			continue
		}
		if caller != nil && caller.serveReadOnly(ctx) {
			continue
		}
		if poll == nil {
			poll = time.NewTicker(time.Millisecond)
			defer poll.Stop()
		}
		select {
		case r := <-m.reply:
			return r.payload, r.err
		case <-ctx.Done():
			return nil, askDone(ctx, m)
		case <-expired:
			return nil, askTimedOut(m)
		case <-poll.C:
		}
	}
}

// RunUntilIdle runs queued turns until no activation has work, and
// returns how many turns it ran. It is how a Deterministic scheduler is
// driven; with the other dispatches it waits until no activation is
// scheduled or running, and returns 0.
func (s *Scheduler) RunUntilIdle() int {
	d, ok := s.dispatcher.(*inline)
	if !ok {
		s.waitIdle()
		return 0
	}
	n := 0
	for {
		turns, ok := d.runOne(nil)
		if !ok {
			return n
		}
		n += turns
	}
}

// Blocking tells the scheduler that the turn of ctx is about to wait (for
// storage, say) and returns the function to call when it resumes, so that
// a worker pool can run other activations meanwhile. Outside a turn it
// does nothing.
func (s *Scheduler) Blocking(ctx context.Context) (resume func()) {
	a := turnFrom(ctx)
	if a == nil {
		return noResume
	}
	s.dispatcher.yieldNext(a)
	s.dispatcher.block()
	return s.unblock
}

// noResume is what Blocking returns outside a turn.
func noResume() {}

// Queued reports whether a message waits in the mailbox of the activation
// running the turn of ctx.
func (s *Scheduler) Queued(ctx context.Context) bool {
	a := turnFrom(ctx)
	if a == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queue) > 0
}

// AwaitQueued waits, in the turn of ctx, until a message is queued for its
// activation or done is closed, and reports whether a message waits. The
// turn counts as blocked meanwhile (see Blocking). With Deterministic
// dispatch nothing else queues messages while a turn waits: do not call
// it there.
func (s *Scheduler) AwaitQueued(ctx context.Context, done <-chan struct{}) bool {
	a := turnFrom(ctx)
	if a == nil {
		return false
	}
	a.mu.Lock()
	if len(a.queue) > 0 {
		a.mu.Unlock()
		return true
	}
	wake := make(chan struct{})
	a.wake = wake
	a.mu.Unlock()
	s.dispatcher.yieldNext(a)
	s.dispatcher.block()
	defer s.dispatcher.unblock()
	select {
	case <-wake:
		return true
	case <-done:
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.wake == wake {
			a.wake = nil
		}
		return len(a.queue) > 0
	}
}

// DeactivateAfterTurn asks that the activation running the turn of ctx be
// deactivated once its mailbox is empty, instead of after its idle timeout.
// Messages already queued are still processed first.
func (s *Scheduler) DeactivateAfterTurn(ctx context.Context) {
	if a := turnFrom(ctx); a != nil {
		a.mu.Lock()
		a.deactivate = true
		a.mu.Unlock()
		s.sweepBy(time.Time{})
	}
}

// Deactivate asks that the live activation of ref be deactivated, for
// reason (one of the Reason constants), at a turn boundary: at once when
// it is idle, else once the turn running and the messages already
// queued are done, as DeactivateAfterTurn. It reports whether ref had a
// live activation.
func (s *Scheduler) Deactivate(ref abi.Ref, reason string) bool {
	s.mu.Lock()
	a := s.acts[ref]
	s.mu.Unlock()
	if a == nil {
		return false
	}
	a.mu.Lock()
	a.deactivate = true
	if a.deactivateReason == "" {
		a.deactivateReason = reason
	}
	a.mu.Unlock()
	s.sweepBy(time.Time{})
	if s.retire(a, true, time.Time{}, reason) {
		s.finish(a)
	}
	return true
}

// Active reports whether ref has a live activation.
func (s *Scheduler) Active(ref abi.Ref) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acts[ref] != nil
}

// Activations lists the live activations.
func (s *Scheduler) Activations() []abi.Ref {
	s.mu.Lock()
	defer s.mu.Unlock()
	refs := make([]abi.Ref, 0, len(s.acts))
	for _, a := range s.acts {
		refs = append(refs, a.ref) // a stateless worker's instances each
	}
	return refs
}

// Has reports whether ref has an activation: live, or being created.
func (s *Scheduler) Has(ref abi.Ref) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acts[ref] != nil
}

// activation returns the activation of ref, creating it if needed.
func (s *Scheduler) activation(ref abi.Ref) (*activation, error) {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil, errClosed
	}
	if a := s.acts[ref]; a != nil {
		s.mu.Unlock()
		return a, nil
	}
	s.mu.Unlock()
	opts, err := s.cfg.Activator.TypeOptions(ref.Type)
	if err != nil {
		return nil, err
	}
	if opts.Mailbox <= 0 {
		opts.Mailbox = DefaultMailbox
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	// An actor's activation is made before s.mu is taken again: its
	// allocations, and the collector's assists they may run, would
	// otherwise hold up every other caller's lookup, and when many
	// actors activate at once the callers queue on s.mu. A stateless
	// worker's is made only once no instance can take the message.
	var a *activation
	if opts.MaxLocal <= 0 {
		a = s.newActivation(ref, opts)
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil, errClosed
	}
	if had := s.acts[ref]; had != nil { // another caller was quicker
		s.mu.Unlock()
		return had, nil
	}
	if opts.MaxLocal > 0 {
		had, slot := s.pickWorkerLocked(ref, opts.MaxLocal)
		if had != nil {
			s.mu.Unlock()
			return had, nil
		}
		a = s.newActivation(ref, opts)
		a.key, a.slot = workerKey(ref, slot), slot
	}
	evicted, err := s.makeRoomLocked(ref, opts.Memory)
	if err != nil {
		s.mu.Unlock()
		s.finishLater(evicted)
		return nil, err
	}
	if len(evicted) > 0 && s.cfg.Dispatch.Deterministic {
		// Finish them before ref exists, on this goroutine: a
		// deactivation hook that asks ref then creates it afresh rather
		// than waiting for an activation that waits for the hook.
		s.mu.Unlock()
		for _, e := range evicted {
			s.finish(e)
		}
		return s.activation(ref)
	}
	a.prev = s.retiring[a.key]
	for _, e := range evicted {
		a.evicted = append(a.evicted, e.done)
	}
	a.mem = max(opts.Memory, 0)
	s.mem.Add(a.mem)
	s.acts[a.key] = a
	if a.slot >= 0 {
		s.addWorkerLocked(a)
	}
	s.sweepBy(a.lastActive.Add(opts.IdleTimeout)) // under s.mu: see CollectIdle
	s.mu.Unlock()
	s.finishLater(evicted)
	return a, nil
}

// newActivation makes an activation of ref, not yet in the table.
func (s *Scheduler) newActivation(ref abi.Ref, opts TypeOptions) *activation {
	a := &activation{
		s:          s,
		ref:        ref,
		key:        ref,
		slot:       -1,
		opts:       opts,
		qbuf:       make([]*Message, 0, min(opts.Mailbox, 16)),
		lastActive: s.cfg.Now(),
	}
	a.queue = a.qbuf
	a.weakSelf = weak.Make(a)
	a.turnCtx = activationCtx{Context: s.ctx, a: a}
	a.ctx = &a.turnCtx
	return a
}

// fits reports whether n activations holding mem bytes are within the
// cap and the memory budget.
func (s *Scheduler) fits(n int, mem int64) bool {
	return (s.cfg.MaxActivations < 0 || n <= s.cfg.MaxActivations) &&
		(s.cfg.MemoryBudget <= 0 || mem <= s.cfg.MemoryBudget)
}

// limited reports whether there is a cap or a budget, so that idle
// activations must be listed for eviction.
func (s *Scheduler) limited() bool { return s.cfg.MaxActivations > 0 || s.cfg.MemoryBudget > 0 }

// makeRoomLocked evicts least recently used idle activations until a new
// activation of ref, reserving need bytes, fits; with s.mu held. When it
// cannot fit even with every idle activation gone, it evicts none and
// returns an unavailable error: busy activations are never evicted, and a
// newcomer waiting in line for them would hold its caller without bound.
// The caller finishes the returned activations, without s.mu (see
// finishLater).
func (s *Scheduler) makeRoomLocked(ref abi.Ref, need int64) ([]*activation, error) {
	if !s.limited() {
		return nil, nil
	}
	need = max(need, 0)
	if s.fits(len(s.acts)+1, s.mem.Load()+need) {
		return nil, nil
	}
	s.lruMu.Lock()
	idle, idleMem := s.idle, s.idleMem
	s.lruMu.Unlock()
	if !s.fits(len(s.acts)+1-idle, s.mem.Load()-idleMem+need) {
		return nil, s.noRoom(ref, need)
	}
	evicted := s.evictLocked(1, need, true)
	if !s.fits(len(s.acts)+1, s.mem.Load()+need) {
		// Some turned busy between the count and the eviction.
		return evicted, s.noRoom(ref, need)
	}
	return evicted, nil
}

// noRoom is the error of a new activation that busy activations leave no
// room for.
func (s *Scheduler) noRoom(ref abi.Ref, need int64) error {
	msg := "no room to activate " + ref.String() + ": "
	switch {
	case s.cfg.MemoryBudget > 0 && need > s.cfg.MemoryBudget:
		msg += "it needs " + strconv.FormatInt(need, 10) + " bytes, more than the whole memory budget of " +
			strconv.FormatInt(s.cfg.MemoryBudget, 10) + " bytes; raise the budget"
	case !s.fits(len(s.acts)+1, 0):
		msg += "the " + strconv.Itoa(s.cfg.MaxActivations) + " live activations allowed are all busy; try again later or raise the cap on activations"
	default:
		msg += "it needs " + strconv.FormatInt(need, 10) + " bytes and busy activations hold " +
			strconv.FormatInt(s.mem.Load(), 10) + " of the memory budget of " + strconv.FormatInt(s.cfg.MemoryBudget, 10) +
			" bytes; try again later or raise the budget"
	}
	return abi.NewError(abi.CodeUnavailable, msg)
}

// evictLocked retires least recently used idle activations until extra
// more activations holding need more bytes fit, or none is idle; with
// s.mu held. The caller finishes the returned activations, without s.mu
// (see finishLater). When forNewcomer is set, the newcomer waits for
// them to deactivate before it activates, so their memory is handed to
// it at once; otherwise it is released when they have deactivated.
func (s *Scheduler) evictLocked(extra int, need int64, forNewcomer bool) []*activation {
	var evicted []*activation
	var freeing int64 // memory of those evicted here, released when they have deactivated
	for !s.fits(len(s.acts)+extra, s.mem.Load()-freeing+need) {
		a := s.lruOldest()
		if a == nil {
			break // every activation is busy
		}
		if s.retireLocked(a, true, time.Time{}, ReasonEvicted) {
			evicted = append(evicted, a)
			if forNewcomer {
				s.mem.Add(-a.mem)
				a.mem = 0
			} else {
				freeing += a.mem
			}
		}
	}
	return evicted
}

// finishLater deactivates evicted activations in goroutines of their own,
// so that whoever made room does not wait for deactivation hooks.
func (s *Scheduler) finishLater(evicted []*activation) {
	for _, a := range evicted {
		if s.cfg.Dispatch.Deterministic {
			s.finish(a)
		} else {
			s.goFunc(func() { s.finish(a) })
		}
	}
}

// inOrder sorts acts by ref when dispatch is deterministic, so that map
// order does not decide in which order they deactivate.
func (s *Scheduler) inOrder(acts []*activation) []*activation {
	if s.cfg.Dispatch.Deterministic {
		slices.SortFunc(acts, func(a, b *activation) int { return strings.Compare(a.key.String(), b.key.String()) })
	}
	return acts
}

// evictOver brings the memory of live activations back under the budget
// once some became idle after turns grew it past.
func (s *Scheduler) evictOver() {
	s.mu.Lock()
	evicted := s.evictLocked(0, 0, false)
	s.mu.Unlock()
	s.finishLater(evicted)
}

// MemoryInUse returns the bytes the live activations hold, as reserved by
// TypeOptions.Memory and reported by MemoryReporter actors.
func (s *Scheduler) MemoryInUse() int64 { return s.mem.Load() }

// retire removes a from the table if it is idle and is not being run; the
// caller then owns its deactivation, which reason explains (one of the
// Reason constants; an activation that asked to go is always
// ReasonRequested but at shutdown). Lock order: s.mu, then a.mu.
func (s *Scheduler) retire(a *activation, force bool, idleSince time.Time, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retireLocked(a, force, idleSince, reason)
}

// retireLocked is retire with s.mu held. It stops a's timers.
func (s *Scheduler) retireLocked(a *activation, force bool, idleSince time.Time, reason string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.retired || a.running || len(a.queue) > 0 {
		return false
	}
	if !force && !a.deactivate && a.lastActive.After(idleSince) {
		return false
	}
	a.retired = true
	a.done = make(chan struct{})
	a.reason = reason
	if a.deactivate && reason != ReasonShutdown {
		a.reason = cmp.Or(a.deactivateReason, ReasonRequested)
	}
	s.lruRemove(a)
	a.stopTimers()
	s.removeLocked(a)
	s.retiring[a.key] = a.done
	return true
}

// finish runs the end of a retired activation and wakes its successor.
func (s *Scheduler) finish(a *activation) {
	if a.actor != nil {
		a.actor.Deactivate(a.ctx)
	}
	s.mem.Add(-a.mem)
	s.mu.Lock()
	if s.retiring[a.key] == a.done {
		delete(s.retiring, a.key)
	}
	s.mu.Unlock()
	close(a.done)
}

// CollectIdle deactivates every activation idle for longer than its type's
// idle timeout and returns how many it deactivated. The sweeper calls it
// periodically; tests with an injected clock call it directly.
func (s *Scheduler) CollectIdle() int {
	now := s.cfg.Now()
	s.mu.Lock()
	// Activations made from here on bring the next sweep forward
	// themselves; those listed here count below.
	s.nextSweep.Store(math.MaxInt64)
	candidates := make([]*activation, 0, len(s.acts))
	for _, a := range s.acts {
		candidates = append(candidates, a)
	}
	s.mu.Unlock()
	// Only those due are retired, which takes s.mu for each: new
	// activations wait for it.
	due := candidates[:0]
	var next time.Time // the earliest at of those not due
	later := false     // whether any is not due
	for _, a := range candidates {
		at, idle := a.sweepAt()
		switch {
		case idle && !at.After(now):
			due = append(due, a)
		case !later || at.Before(next):
			next, later = at, true
		}
	}
	clear(candidates[len(due):])
	n := 0
	for _, a := range s.inOrder(due) {
		if s.retire(a, false, now.Add(-a.opts.IdleTimeout), ReasonIdle) {
			s.finish(a)
			n++
		} else {
			next, later = now, true // it turned busy: look again
		}
	}
	if later {
		s.sweepBy(next)
	}
	return n
}

// sweepBy makes the sweeper's next pass come no later than its first tick
// at or after t.
func (s *Scheduler) sweepBy(t time.Time) {
	at := int64(t.Sub(s.epoch))
	for {
		cur := s.nextSweep.Load()
		if at >= cur || s.nextSweep.CompareAndSwap(cur, at) {
			return
		}
	}
}

// sweep calls CollectIdle every SweepInterval, but only once an activation
// may be due (nextSweep): with many live activations and none near its
// idle timeout, a pass visits all of them for nothing.
func (s *Scheduler) sweep() {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopSweep:
			return
		case <-t.C:
			if int64(s.cfg.Now().Sub(s.epoch)) >= s.nextSweep.Load() {
				s.CollectIdle()
			}
		}
	}
}

// Close stops accepting messages, fails queued ones with unavailable, lets
// turns in flight finish, deactivates every activation and waits for all of
// it, or for ctx to end.
func (s *Scheduler) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	s.closed.Store(true)
	acts := make([]*activation, 0, len(s.acts))
	for _, a := range s.acts {
		acts = append(acts, a)
	}
	s.mu.Unlock()
	close(s.stopSweep)

	acts = s.inOrder(acts)
	for _, a := range acts {
		a.failQueued(errClosed)
	}
	if s.cfg.Dispatch.Deterministic {
		// Nobody else runs the queue: drive it until nothing is busy, so
		// that queued activations find their mailboxes empty and retire.
		// A tick a real clock queued just before closed was set may still
		// arrive, hence the loop.
		for s.RunUntilIdle(); s.busyCount() > 0; s.RunUntilIdle() {
			select {
			case <-ctx.Done():
				s.cancel()
				return ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	// Activations still running retire themselves when their turn ends
	// (run sees closed); idle ones are retired here.
	for _, a := range acts {
		if s.retire(a, true, time.Time{}, ReasonShutdown) {
			s.finish(a)
		}
	}
	done := make(chan struct{})
	go func() {
		s.waitIdle()
		s.dispatcher.stop()
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		return ctx.Err()
	}
}

func (s *Scheduler) busyCount() int { return int(s.busy.Load()) }

// addBusy counts activations that are scheduled or running, so that Close
// can wait for the last turn.
func (s *Scheduler) addBusy(n int) {
	if s.busy.Add(int64(n)) == 0 {
		// Under busyMu: a waiter checks the count and waits under it, so
		// that it cannot miss this wake-up.
		s.busyMu.Lock()
		s.busyZero.Broadcast()
		s.busyMu.Unlock()
	}
}

// waitIdle waits until no activation is scheduled or running.
func (s *Scheduler) waitIdle() {
	s.busyMu.Lock()
	for s.busy.Load() > 0 {
		s.busyZero.Wait()
	}
	s.busyMu.Unlock()
}

// startWaiting records that caller's turn waits on target, unless that
// closes a cycle in the wait-for graph.
func (s *Scheduler) startWaiting(caller, target abi.Ref) error {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	chain := []string{keyString(caller), keyString(target)}
	// The graph has no cycle (each edge is added only when it closes
	// none), so the walk ends; the bound guards against a bug making it
	// loop forever.
	for cur, steps := target, 0; cur != caller; steps++ {
		next, ok := s.waits[cur]
		if !ok || steps > len(s.waits) {
			s.waits[caller] = target
			return nil
		}
		chain = append(chain, keyString(next))
		cur = next
	}
	return abi.NewError(abi.CodeDeadlock, "ask cycle: "+strings.Join(chain, " -> "))
}

func (s *Scheduler) stopWaiting(caller abi.Ref) {
	s.waitMu.Lock()
	delete(s.waits, caller)
	s.waitMu.Unlock()
}

type turnKey struct{}

// activationCtx is an activation's context: the scheduler's, with the
// activation as the value of turnKey{}. It is a field of the activation,
// so that making it allocates nothing (context.WithValue did, once per
// activation).
type activationCtx struct {
	context.Context
	a *activation
}

// Value returns the activation for turnKey{}, else what the parent holds.
func (c *activationCtx) Value(key any) any {
	if _, ok := key.(turnKey); ok {
		return c.a
	}
	return c.Context.Value(key)
}

func turnFrom(ctx context.Context) *activation {
	a, _ := ctx.Value(turnKey{}).(*activation)
	return a
}
