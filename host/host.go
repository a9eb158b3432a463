package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"go.opentelemetry.io/otel/trace"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
)

// Defaults for TypeConfig fields left zero.
const (
	DefaultMaxMessage  = abi.DefaultMaxMessage
	DefaultMaxMemory   = 64 << 20
	DefaultTurnTimeout = 5 * time.Second
	DefaultAskTimeout  = 5 * time.Second
)

// TableEntryCost is the most host memory, in bytes, one table entry of a
// guest can take in wazero 1.12: 8 for its slot in a table, and for an
// entry of an element segment a function reference (about 40) and, while
// the segment is passive, its own slot (8). A type's default table limit
// gives its entries together at most the cost of its memory limit.
const TableEntryCost = 64

// MaxTableEntriesLimit is the largest table limit: wazero's own bound on a
// table's minimum (2^27 entries).
const MaxTableEntriesLimit = 1 << 27

// DefaultMaxTableEntries is the table limit of a type whose MaxTableEntries
// is 0: maxMemory / TableEntryCost, so that max_memory bounds the tables
// too (1,048,576 entries for the default 64 MiB).
func DefaultMaxTableEntries(maxMemory int64) int64 {
	return min(maxMemory/TableEntryCost, MaxTableEntriesLimit)
}

// maxAttempts is how often a tell is tried before it is dropped.
const maxAttempts = 3

// Config configures a Host.
type Config struct {
	// Store keeps state and the outbox. Required. The host does not close it.
	Store storage.Store
	// CacheDir holds compiled modules between runs; "" keeps them in memory.
	CacheDir string
	Logger   *slog.Logger
	// Dispatch chooses how activations are scheduled (see scheduler.Dispatch).
	// With Deterministic, turns run only on the goroutines that call Ask
	// (its target's turns), RunUntilIdle and Close: tests drive the host.
	Dispatch scheduler.Dispatch
	// SweepInterval is how often idle activations are collected (default 1s).
	SweepInterval time.Duration
	// RecordRetention is how long the reply to a message with an
	// idempotency key is kept for retries (default DefaultRecordRetention).
	RecordRetention time.Duration
	// Clock gives the time of timers, reminders, idle collection and the
	// guests' wall clock (default scheduler.RealClock). Tests pass a
	// *scheduler.ManualClock to move time by hand.
	Clock scheduler.Clock
	// MaxActivations caps the live activations of the whole host; the
	// least recently used idle activation is deactivated to make room for
	// a new one, and a new one is refused with unavailable when all are
	// busy (0: scheduler.DefaultMaxActivations; negative: no cap). See
	// scheduler.Config.MaxActivations.
	MaxActivations int
	// MaxDeadLetters and MaxDeadLetterBytes cap the dead letters kept
	// (0: DefaultMaxDeadLetters, DefaultMaxDeadLetterBytes). When a new
	// one would pass either, the oldest are dropped and counted; see
	// storage.DeadLetterCap.
	MaxDeadLetters     int
	MaxDeadLetterBytes int64
	// MaxGuestMemory bounds the linear memory of all guests together, in
	// bytes, counted as the pages each holds resident and alone (see
	// linmem.Resident; where that cannot be measured, the memory's size):
	// a new activation reserves its type's memory first, least
	// recently used idle activations are deactivated to make room, and a
	// new activation is refused with unavailable when busy ones hold the
	// budget. 0: GuestMemoryPercent of the machine's memory (its cgroup's
	// limit in a container); negative: no budget.
	MaxGuestMemory int64
	// GuestMemoryPercent is the budget, in percent of the machine's
	// memory, when MaxGuestMemory is 0 (0: DefaultGuestMemoryPercent).
	GuestMemoryPercent int
	// NoSnapshots makes every instance run the module's _initialize, as
	// if no module could start from a snapshot: for comparison, or to
	// rule snapshots out when diagnosing a guest.
	NoSnapshots bool
	// NoPipelining makes every turn wait for its own commit before the
	// activation runs the next one, as if no activation could run turns
	// while earlier commits are in flight: for comparison (the durable
	// benchmark's unpipelined baseline), or to rule pipelining out when
	// diagnosing. Replies, tells and reminders leave after their turn's
	// commit either way. Deterministic dispatch never pipelines.
	NoPipelining bool
	// Observer is told what the host does, for metrics (see Observer);
	// nil observes nothing, at no cost.
	Observer Observer
	// TracerProvider, when set, traces turns, asks and tells with
	// OpenTelemetry spans, and carries their W3C trace context in the
	// messages, the outbox and reminders (see docs/design.md, "Tracing").
	// Nil (the default) traces nothing and costs nothing.
	TracerProvider trace.TracerProvider
	// Node, when set and the Store has storage.Leases (a store shared by
	// the nodes of a cluster), makes this host's activations exclusive:
	// each holds its actor's lease, as owner Node, and commits only while
	// it holds it (see ownership). A Store without Leases is then refused.
	// "" (the default): no leases, at no cost.
	Node string
	// LeaseTTL is how long an activation's lease lives unless renewed
	// (renewed every third of it); 0: DefaultLeaseTTL. Used with Node.
	LeaseTTL time.Duration
	// Placement, with Node, says which node of the cluster should own
	// each actor: the host hands its activations over when another node
	// becomes their preferred owner, and fires reminders only for the
	// actors it holds or prefers (see Placement). Nil: every actor is
	// this node's to take.
	Placement Placement
	// Remote, when set, connects the host to the other nodes of its
	// cluster: a message to an actor that another node serves goes there,
	// and a message to an actor that is moving is tried again until its
	// deadline (see Remote). It needs Node. Nil (the default): every
	// actor is served here, or refused when another node holds it.
	Remote Remote
}

// Defaults of the dead letter cap.
const (
	DefaultMaxDeadLetters           = 10_000
	DefaultMaxDeadLetterBytes int64 = 64 << 20
)

// DefaultRecordRetention is how long idempotency records are kept by default.
const DefaultRecordRetention = 24 * time.Hour

// MaxIdempotencyKeyLen bounds an idempotency key.
const MaxIdempotencyKeyLen = 200

// TypeConfig describes one actor type.
type TypeConfig struct {
	Name   string
	Module []byte // the WebAssembly module
	// Source says where Module came from (a path), for messages.
	Source      string
	Mailbox     int           // bounded mailbox size; 0 means scheduler.DefaultMailbox
	MaxMessage  int64         // bytes of a message, reply or state value; 0 means DefaultMaxMessage
	MaxMemory   int64         // bytes of guest memory; 0 means DefaultMaxMemory
	TurnTimeout time.Duration // execution limit of one turn; 0 means DefaultTurnTimeout
	IdleTimeout time.Duration // 0 means scheduler.DefaultIdleTimeout
	AskTimeout  time.Duration // default timeout of asks made by this type; 0 means DefaultAskTimeout
	// MaxTableEntries bounds the entries of the guest's tables together,
	// and those of its element segments together; 0 means
	// DefaultMaxTableEntries(MaxMemory). A module whose tables start
	// larger is refused; table.grow past it fails (returns -1).
	MaxTableEntries int64
	// Env and Dirs grant the type's guests environment variables and host
	// folders through WASI. By default a guest gets clocks and random
	// numbers only: no environment, arguments, file system or sockets.
	Env  map[string]string
	Dirs []DirGrant
	// StatelessWorker, when above zero, makes the type a stateless worker
	// with up to this many instances per actor on this host (see
	// stateless.go); zero runs one turn at a time per actor.
	StatelessWorker int
	// ReadOnly are the type's read-only methods (see readonly.go): they
	// may run while a turn of the actor waits in an ask, and may change
	// nothing.
	ReadOnly []string
	// Subscriptions subscribe every actor of the type to the topics that
	// match their patterns (see ImplicitSubscription); at most
	// MaxImplicitSubscriptions.
	Subscriptions []ImplicitSubscription
	// Reentrant makes the type reentrant along call chains (the
	// manifest's reentrant: call_chain; see reentry.go): an ask on the
	// call chain of a turn that waits in an ask, coming back to the
	// actor, runs nested in that turn instead of failing with deadlock.
	// The module must declare that it can be re-entered (the export
	// wactor_reentrant); a stateless worker cannot be reentrant.
	Reentrant bool
}

func (tc *TypeConfig) applyDefaults() {
	if tc.Mailbox <= 0 {
		tc.Mailbox = scheduler.DefaultMailbox
	}
	if tc.IdleTimeout <= 0 {
		tc.IdleTimeout = scheduler.DefaultIdleTimeout
	}
	if tc.MaxMessage <= 0 {
		tc.MaxMessage = DefaultMaxMessage
	}
	if tc.MaxMemory <= 0 {
		tc.MaxMemory = DefaultMaxMemory
	}
	if tc.MaxTableEntries <= 0 {
		tc.MaxTableEntries = DefaultMaxTableEntries(tc.MaxMemory)
	}
	if tc.TurnTimeout <= 0 {
		tc.TurnTimeout = DefaultTurnTimeout
	}
	if tc.AskTimeout <= 0 {
		tc.AskTimeout = DefaultAskTimeout
	}
}

// prepare applies the defaults to tc and checks its limits, for Deploy
// and Inspect alike.
func (tc *TypeConfig) prepare() error {
	tc.applyDefaults()
	if tc.MaxMemory%wasmPage != 0 || tc.MaxMemory > 1<<32 {
		return fmt.Errorf("max memory %d must be a multiple of 64 KiB and at most 4 GiB", tc.MaxMemory)
	}
	if tc.MaxTableEntries > MaxTableEntriesLimit {
		return fmt.Errorf("max table entries %d must be at most %d", tc.MaxTableEntries, MaxTableEntriesLimit)
	}
	if err := checkReadOnly(tc.ReadOnly); err != nil {
		return err
	}
	if tc.StatelessWorker < 0 || tc.StatelessWorker > scheduler.MaxLocalLimit {
		return fmt.Errorf("stateless worker max_local %d must be from 1 to %d", tc.StatelessWorker, scheduler.MaxLocalLimit)
	}
	if err := checkImplicit(tc.Subscriptions); err != nil {
		return fmt.Errorf("subscriptions: %w", err)
	}
	if tc.Reentrant && tc.StatelessWorker > 0 {
		return errors.New(errReentrantWorker)
	}
	return nil
}

// TypeInfo describes a deployed actor type.
type TypeInfo struct {
	Name         string
	Source       string
	ModuleSize   int
	ModuleSHA256 string     // of the module's bytes, in hex: which version runs
	Config       TypeConfig // with defaults applied; Module is nil
}

// actorType is a deployed type; a deploy swaps in a new deployment whole.
type actorType struct {
	cur atomic.Pointer[deployment]
}

// deployment is one immutable configuration and compiled module of a type.
type deployment struct {
	cfg TypeConfig
	v   *moduleVersion
}

func (t *actorType) current() *deployment { return t.cur.Load() }

// Host runs WebAssembly actors. It is safe for concurrent use.
type Host struct {
	store     storage.Store
	retention time.Duration
	budget    int64 // of guest memory; 0: none
	snapshots bool  // instances may start from snapshots
	cache     wazero.CompilationCache
	disk      *diskCache // the cache's folder; nil when kept in memory
	compiles  compileLocks
	log       *slog.Logger
	sched     *scheduler.Scheduler
	ids       idGen
	clock     scheduler.Clock
	rem       *reminders
	dead      deadLetters
	obs       Observer // nil: not observed
	tracer    *tracer  // nil: tracing is off
	// pipelined: an activation runs its next turns while the commits of
	// the previous ones are in flight (off with Deterministic dispatch,
	// where turns run only on the goroutine that drives the host).
	pipelined bool

	typesMu sync.RWMutex
	types   map[string]*actorType

	// sweepCursor is where the next outbox sweep reads on (see
	// sweepOutbox); only the sweep's goroutine uses it.
	sweepCursor string

	retryMu sync.Mutex
	pending map[string][]storage.Message // target -> outbox messages waiting for room, in order
	// waiting counts the messages in pending, written under retryMu: while
	// it is 0, as it nearly always is, a delivery skips the lock.
	waiting   atomic.Int64
	retryWake chan struct{}
	stop      chan struct{}
	wg        sync.WaitGroup
	closed    atomic.Bool
	own       *ownership // nil: the store is not shared, no leases
	placement Placement  // nil: no cluster placement (see Placement)
	// handMu is held while activations are handed over, and by Close:
	// a handover's deactivations end before the host closes.
	handMu sync.Mutex
	remote Remote // nil: not in a cluster
	node   string // this node's name, with remote
	hints  hints  // where actors are served, with remote
	// local holds the ids of the tells queued here and not yet answered,
	// with remote: the outbox sweep leaves them alone.
	local  sync.Map
	topics *fanout
}

// New returns a Host with no types deployed. Call Start once the types are
// deployed, so that messages left in the outbox find their types.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if cfg.Store == nil {
		return nil, errors.New("host: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RecordRetention <= 0 {
		cfg.RecordRetention = DefaultRecordRetention
	}
	if cfg.Clock == nil {
		cfg.Clock = scheduler.RealClock
	}
	if cfg.GuestMemoryPercent < 0 || cfg.GuestMemoryPercent > 100 {
		return nil, fmt.Errorf("host: Config.GuestMemoryPercent is %d; give a percentage from 1 to 100, or 0 for the default of %d",
			cfg.GuestMemoryPercent, DefaultGuestMemoryPercent)
	}
	if cfg.MaxDeadLetters < 0 || cfg.MaxDeadLetterBytes < 0 {
		return nil, errors.New("host: Config.MaxDeadLetters and MaxDeadLetterBytes must not be negative")
	}
	if cfg.MaxDeadLetters == 0 {
		cfg.MaxDeadLetters = DefaultMaxDeadLetters
	}
	if cfg.MaxDeadLetterBytes == 0 {
		cfg.MaxDeadLetterBytes = DefaultMaxDeadLetterBytes
	}
	own, err := newOwnership(cfg.Store, cfg.Node, cfg.LeaseTTL)
	if err != nil {
		return nil, err
	}
	if cfg.Remote != nil && own == nil {
		return nil, errors.New("host: Config.Remote needs Config.Node, and a store shared by the nodes (with leases)")
	}
	budget, from := guestMemoryBudget(cfg, machineMemory)
	cfg.Logger.Info("guest memory budget", "bytes", budget, "from", from)
	h := &Host{
		store:     cfg.Store,
		retention: cfg.RecordRetention,
		log:       cfg.Logger,
		types:     make(map[string]*actorType),
		pending:   make(map[string][]storage.Message),
		retryWake: make(chan struct{}, 1),
		stop:      make(chan struct{}),
		clock:     cfg.Clock,
		dead:      deadLetters{limit: storage.DeadLetterCap{Count: cfg.MaxDeadLetters, Bytes: cfg.MaxDeadLetterBytes}},
		budget:    budget,
		snapshots: !cfg.NoSnapshots,
		pipelined: !cfg.Dispatch.Deterministic && !cfg.NoPipelining,
		obs:       observer(cfg),
		tracer:    newTracer(cfg.TracerProvider),
		own:       own,
		remote:    cfg.Remote,
		node:      cfg.Node,
	}
	if own != nil {
		h.hints.ttl = own.ttl
	}
	if own != nil {
		h.placement = cfg.Placement
	}
	h.rem = newReminders(h, cfg.Clock)
	h.topics = newFanout(h)
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("host: compilation cache in %s: %w", cfg.CacheDir, err)
		}
		h.cache = c
		h.disk = &diskCache{dir: cfg.CacheDir, log: cfg.Logger}
		h.disk.verify()
	} else {
		h.cache = wazero.NewCompilationCache()
	}
	h.sched = scheduler.New(scheduler.Config{
		Activator:      (*activator)(h),
		Dispatch:       cfg.Dispatch,
		SweepInterval:  cfg.SweepInterval,
		Clock:          cfg.Clock,
		MaxActivations: cfg.MaxActivations,
		MemoryBudget:   budget,
		NewID:          h.ids.next,
		Logger:         cfg.Logger,
	})
	h.wg.Add(2)
	go h.retryLoop()
	go h.topics.loop()
	if own != nil {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			own.renewLoop(h.stop, h.log.Warn)
		}()
	}
	if h.placement != nil {
		h.wg.Add(1)
		go h.handoverLoop()
	}
	return h, nil
}

// Deploy compiles tc.Module and makes it the module of type tc.Name. A type
// deployed again gets the new module live: each activation switches at its
// next turn, keeping its state. Deploy may be called concurrently, for
// different types or the same one (the last to finish wins).
func (h *Host) Deploy(ctx context.Context, tc TypeConfig) error {
	_, err := h.DeployReport(ctx, tc)
	return err
}

// DeployStats says how a deploy went.
type DeployStats struct {
	// Compile is how long loading the module took: compiling it, or
	// reading it from the compile cache, and starting it once.
	Compile time.Duration
	// CacheHit reports that the compile cache folder had the module: no
	// compilation wrote a new entry while it loaded. Deploys running at
	// the same time see each other's entries, so a hit may be reported as
	// a miss then, never the reverse. Always false without a cache folder.
	CacheHit bool
}

// DeployReport is Deploy, and reports how long the module took to load
// and whether the compile cache had it.
func (h *Host) DeployReport(ctx context.Context, tc TypeConfig) (DeployStats, error) {
	if err := abi.ValidateType(tc.Name); err != nil {
		return DeployStats{}, err
	}
	if err := tc.prepare(); err != nil {
		return DeployStats{}, fmt.Errorf("host: type %s: %w", tc.Name, err)
	}
	src := tc.Source
	if src == "" {
		src = "module"
	}
	grants, err := newWASIGrants(&tc)
	if err != nil {
		return DeployStats{}, fmt.Errorf("host: type %s: %w", tc.Name, err)
	}
	start := time.Now()
	v, hit, err := h.compile(ctx, tc, grants)
	stats := DeployStats{Compile: time.Since(start), CacheHit: hit}
	if err != nil {
		grants.close()
		return stats, fmt.Errorf("host: type %s: loading %s: %w", tc.Name, src, err)
	}
	if v.noSnapshot != "" {
		h.log.Info("activations of the type run _initialize", "type", tc.Name, "module", src, "reason", v.noSnapshot)
	}
	if h.clock != scheduler.RealClock {
		v.walltime = h.clock.Now // guests see the host's clock
	}
	tc.Module = nil // compiled; the bytes are not needed again
	h.typesMu.Lock()
	t := h.types[tc.Name]
	if t == nil {
		t = &actorType{}
		h.types[tc.Name] = t
	}
	old := t.cur.Swap(&deployment{cfg: tc, v: v})
	h.typesMu.Unlock()
	if old != nil {
		old.v.retire(ctx)
	}
	return stats, nil
}

// Start delivers the messages that an earlier run committed to the outbox
// and did not see processed (in a cluster, those whose targets this node
// serves, in a periodic sweep: see Remote), and starts firing the durable
// reminders. Deploy every type first.
func (h *Host) Start(ctx context.Context) error {
	if h.remote != nil {
		// The outbox is the cluster's: each node delivers the messages
		// whose targets it serves, in a periodic sweep.
		h.wg.Add(1)
		go h.sweepLoop()
	} else {
		msgs, err := h.store.Outbox(ctx)
		if err != nil {
			return fmt.Errorf("host: reading the outbox: %w", err)
		}
		if len(msgs) > 0 {
			h.log.Info("redelivering messages from the outbox", "count", len(msgs))
		}
		h.deliver(msgs)
	}
	if err := h.applyDeadLetterCap(ctx); err != nil {
		return fmt.Errorf("host: applying the dead letter cap: %w", err)
	}
	if err := h.rem.start(ctx); err != nil {
		return fmt.Errorf("host: loading the reminders due: %w", err)
	}
	return nil
}

func (h *Host) lookupType(name string) (*actorType, bool) {
	h.typesMu.RLock()
	defer h.typesMu.RUnlock()
	t, ok := h.types[name]
	return t, ok
}

// Types describes the deployed types, sorted by name.
func (h *Host) Types() []TypeInfo {
	h.typesMu.RLock()
	defer h.typesMu.RUnlock()
	infos := make([]TypeInfo, 0, len(h.types))
	for name, t := range h.types {
		d := t.current()
		infos = append(infos, TypeInfo{Name: name, Source: d.cfg.Source, ModuleSize: d.v.size, ModuleSHA256: d.v.sha256, Config: d.cfg})
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos
}

// Activations lists the live activations.
func (h *Host) Activations() []abi.Ref { return h.sched.Activations() }

// GuestMemory returns the bytes of linear memory the live activations'
// guests hold (or have reserved before instantiating), and the budget they
// are held to (0: none).
func (h *Host) GuestMemory() (inUse, budget int64) { return h.sched.MemoryInUse(), h.budget }

// RunUntilIdle runs the turns waiting for an activation until none waits,
// on the calling goroutine, and returns how many ran; it is how a host with
// deterministic dispatch is driven (see scheduler.Scheduler.RunUntilIdle).
// With the other dispatches it waits until no activation is busy.
func (h *Host) RunUntilIdle() int { return h.sched.RunUntilIdle() }

// CallOption adjusts one Ask or Tell.
type CallOption func(*callOptions)

type callOptions struct {
	key string
}

// IdempotencyKey makes a call safe to retry: the key becomes the message's
// id, a message whose key the target already committed is not applied
// again, and a retried ask gets the reply recorded when the first one
// committed. Keys are scoped to the target actor and remembered for the
// host's configured retention.
func IdempotencyKey(key string) CallOption { return func(o *callOptions) { o.key = key } }

func applyOptions(opts []CallOption) callOptions {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Ask sends a message and waits for the reply; the reply is released only
// after the turn has committed. Without a deadline on ctx, the target
// type's ask timeout applies.
func (h *Host) Ask(ctx context.Context, to abi.Ref, method string, payload []byte, opts ...CallOption) ([]byte, error) {
	t, err := h.check(to, method, payload)
	if err != nil {
		return nil, err
	}
	key, reply, done, err := h.recorded(ctx, to, opts)
	if err != nil || done {
		return reply, err
	}
	m := &scheduler.Message{ID: h.ids.next(), Key: key, Target: to, Method: method, Payload: payload, Trace: h.tracer.contextTrace(ctx)}
	h.sent("", KindAsk, 1)
	if h.remote != nil {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t.current().cfg.AskTimeout)
			defer cancel()
		}
		reply, err = h.askRouted(ctx, m)
	} else {
		if _, ok := ctx.Deadline(); !ok {
			m.Timeout = t.current().cfg.AskTimeout
		}
		reply, err = h.sched.Ask(ctx, m)
	}
	if err != nil {
		return nil, asABIError(err)
	}
	return reply, nil
}

// recorded applies the call options: with an idempotency key it looks for
// the record of a message with that key that already committed.
func (h *Host) recorded(ctx context.Context, to abi.Ref, opts []CallOption) (key string, reply []byte, done bool, err error) {
	return h.recordedIn(ctx, to.String(), opts)
}

// recordedIn is recorded for a key scoped to scope: an actor's ref, or a
// topic's target (see Publish).
func (h *Host) recordedIn(ctx context.Context, scope string, opts []CallOption) (key string, reply []byte, done bool, err error) {
	if len(opts) == 0 {
		return "", nil, false, nil
	}
	o := applyOptions(opts)
	if o.key == "" {
		return "", nil, false, nil
	}
	if len(o.key) > MaxIdempotencyKeyLen {
		return "", nil, false, abi.NewError(abi.CodeBadRequest, "idempotency key is longer than "+itoa(MaxIdempotencyKeyLen)+" bytes")
	}
	for i := 0; i < len(o.key); i++ {
		if c := o.key[i]; c < 0x21 || c > 0x7e {
			return "", nil, false, abi.NewError(abi.CodeBadRequest, "idempotency key must be printable ASCII without spaces")
		}
	}
	reply, done, err = h.store.Recorded(ctx, scopedKey(scope, o.key))
	if err != nil {
		return "", nil, false, abi.NewError(abi.CodeUnavailable, "reading the idempotency record: "+err.Error())
	}
	return o.key, reply, done, nil
}

// recordKey scopes an idempotency key to its target actor.
func recordKey(to abi.Ref, key string) string { return scopedKey(to.String(), key) }

func scopedKey(scope, key string) string { return scope + "\x00" + key }

// Tell sends a message without waiting for its turn. When Tell returns nil
// the message is committed to the outbox: it will be processed even if the
// process dies now.
func (h *Host) Tell(ctx context.Context, to abi.Ref, method string, payload []byte, opts ...CallOption) error {
	t, err := h.check(to, method, payload)
	if err != nil {
		return err
	}
	key, _, done, err := h.recorded(ctx, to, opts)
	if err != nil || done {
		return err // done: a tell with this key was already applied
	}
	// Tells that found the mailbox full wait in memory; refuse more rather
	// than let that backlog grow without bound.
	limit := t.current().cfg.Mailbox
	backlog := 0
	if h.waiting.Load() > 0 {
		h.retryMu.Lock()
		backlog = len(h.pending[to.String()])
		h.retryMu.Unlock()
	}
	if backlog >= limit {
		return abi.NewError(abi.CodeMailboxFull, "mailbox of "+to.String()+" is full")
	}
	tb, _ := tellBatches.Get().(*tellBatch)
	if tb == nil {
		tb = &tellBatch{}
	}
	defer tb.spare()
	tb.msgs[0] = storage.Message{ID: h.ids.next(), Key: key, Target: to.String(), Method: method, Payload: payload, Trace: h.tracer.contextTrace(ctx)}
	tb.b.Send = tb.msgs[:]
	if err := h.store.Commit(ctx, &tb.b); err != nil {
		return abi.NewError(abi.CodeUnavailable, "storing a tell to "+to.String()+": "+err.Error())
	}
	h.sent("", KindTell, 1)
	h.deliver(tb.msgs[:]) // copies the message wherever it keeps it
	return nil
}

// tellBatch is the batch of a tell from outside and its one message, in
// one allocation, which the next tell reuses (tellBatches): a store keeps
// nothing of a batch once its Commit returns (see storage.Store), and
// delivery copies the message.
type tellBatch struct {
	b    storage.Batch
	msgs [1]storage.Message
}

// tellBatches holds the tellBatch structs of tells that returned, zeroed:
// at about 450 bytes, the largest allocation of a tell from outside.
var tellBatches sync.Pool

// spare zeroes tb, whose tell returned, and keeps it for the next.
func (tb *tellBatch) spare() {
	*tb = tellBatch{}
	tellBatches.Put(tb)
}

func (h *Host) check(to abi.Ref, method string, payload []byte) (*actorType, error) {
	if h.closing() {
		return nil, abi.NewError(abi.CodeUnavailable, "host is shutting down")
	}
	if err := to.Validate(); err != nil {
		return nil, err
	}
	t, ok := h.lookupType(to.Type)
	if !ok {
		return nil, abi.NewError(abi.CodeUnknownType, "no actor type "+strconv.Quote(to.Type))
	}
	if e := abi.CheckMethod("message to "+to.String(), method); e != nil {
		return nil, e
	}
	if limit := t.current().cfg.MaxMessage; int64(len(payload)) > limit {
		return nil, abi.NewError(abi.CodeTooLarge, "message of "+itoa(len(payload))+" bytes is over the limit of "+itoa(int(limit))+" bytes for type "+to.Type)
	}
	if len(payload) > 0 {
		if err := abi.WellFormed(payload); err != nil {
			return nil, abi.NewError(abi.CodeBadRequest, "payload is not one well-formed CBOR item: "+err.Error())
		}
	}
	return t, nil
}

// deliver hands committed outbox messages to their targets' mailboxes,
// or, in a cluster, to the nodes that serve them (see deliverRouted). A
// message whose target's mailbox is full waits, with every later message to
// the same target, for the retry loop, so per-sender order holds.
func (h *Host) deliver(msgs []storage.Message) { h.deliverFrom(context.Background(), msgs) }

// deliverFrom is deliver called by the commit of a turn, with its ctx, on
// the goroutine running it: the scheduler may run an idle target there
// next (see scheduler.Scheduler.Tell).
func (h *Host) deliverFrom(ctx context.Context, msgs []storage.Message) {
	if h.remote != nil {
		h.deliverRouted(msgs)
		return
	}
	h.deliverHere(ctx, msgs)
}

// deliverHere delivers msgs one by one (with tryDeliver), each behind the
// messages to its target that wait, then queues the publications among
// them for their fan-out. The fan-out runs on its own goroutine, and the
// outbox a restart redelivers (in id order) may list a publication before
// the copies of an earlier one that a fan-out made before the crash: queued
// first, its copies could reach a subscriber before those.
func (h *Host) deliverHere(ctx context.Context, msgs []storage.Message) {
	publications := false
	for _, m := range msgs {
		if isPublication(&m) {
			publications = true
			continue
		}
		// A message of this sender that waits was added before this call
		// (the sender's messages are delivered in turn), so a count of 0
		// seen here means none of its messages waits.
		waiting := false
		if h.waiting.Load() > 0 {
			h.retryMu.Lock()
			waiting = len(h.pending[m.Target]) > 0
			if waiting {
				h.wait(m)
			}
			h.retryMu.Unlock()
		}
		if !waiting && !h.tryDeliver(ctx, m) {
			h.retryMu.Lock()
			h.wait(m)
			h.retryMu.Unlock()
			h.wakeRetry()
		}
	}
	if !publications {
		return
	}
	for _, m := range msgs {
		if isPublication(&m) {
			h.topics.add(m)
		}
	}
}

// wait queues m for the retry loop; with retryMu held.
func (h *Host) wait(m storage.Message) {
	h.pending[m.Target] = append(h.pending[m.Target], m)
	h.waiting.Add(1)
}

// tryDeliver enqueues m, or in a cluster sends it to the node that serves
// its target; it reports false when m must wait (for room, or for a node
// that serves its target).
func (h *Host) tryDeliver(ctx context.Context, m storage.Message) bool {
	to, err := abi.ParseRef(m.Target)
	var sender abi.Ref
	if err == nil && m.Sender != "" {
		sender, err = abi.ParseRef(m.Sender)
	}
	if err == nil && h.remote != nil {
		if node := h.route(to); node != "" {
			return len(h.sendAway(node, []storage.Message{m})) == 0
		}
	}
	if err == nil {
		sm := &scheduler.Message{ID: m.ID, Key: m.Key, Target: to, Sender: sender, Method: m.Method, Payload: m.Payload, Trace: m.Trace}
		if h.remote != nil {
			sm.Done = func(_ []byte, err error) { h.delivered(m, err) }
			h.local.Store(m.ID, struct{}{})
		}
		if err = h.sched.Tell(ctx, sm); err != nil && h.remote != nil {
			h.local.Delete(m.ID)
		}
	}
	switch {
	case err == nil:
		return true
	case errors.Is(err, abi.ErrMailboxFull), errors.Is(err, abi.ErrUnavailable):
		return false
	}
	// The message can never be delivered (its type is gone): drop it for good.
	h.log.Error("dropping undeliverable message", "id", m.ID, "target", m.Target, "method", m.Method, "err", err)
	if cerr := h.store.Commit(context.Background(), &storage.Batch{Consumed: []string{m.ID}}); cerr != nil {
		h.log.Error("recording a dropped message", "id", m.ID, "err", cerr)
	}
	return true
}

func (h *Host) wakeRetry() {
	select {
	case h.retryWake <- struct{}{}:
	default:
	}
}

// retryLater schedules another attempt at a tell whose turn failed because
// the guest broke or the store refused its commit, with exponential
// backoff.
func (h *Host) retryLater(m *scheduler.Message) {
	next := *m
	next.Attempt++
	h.tellAfter(&next, time.Duration(50<<min(m.Attempt, 10))*time.Millisecond)
}

// tellAfter sends m again after delay. When it finds no room (its mailbox
// full, or busy activations leaving none for it) it waits as long again
// and retries, rather than leave the message in the outbox until the next
// start.
func (h *Host) tellAfter(m *scheduler.Message, delay time.Duration) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		select {
		case <-time.After(delay):
		case <-h.stop:
			return // still in the outbox: redelivered after restart
		}
		err := h.sched.Tell(context.Background(), m)
		switch {
		case err == nil:
		case (errors.Is(err, abi.ErrMailboxFull) || errors.Is(err, abi.ErrUnavailable)) && !h.closing():
			h.tellAfter(m, delay)
		default:
			h.log.Warn("retrying a tell", "id", m.ID, "target", m.Target.String(), "err", err)
		}
	}()
}

// retryLoop delivers messages that found their mailbox full.
func (h *Host) retryLoop() {
	defer h.wg.Done()
	backoff := time.Millisecond
	for {
		select {
		case <-h.stop:
			return
		case <-h.retryWake:
		case <-time.After(backoff):
		}
		h.retryMu.Lock()
		targets := make([]string, 0, len(h.pending))
		for target := range h.pending {
			targets = append(targets, target)
		}
		h.retryMu.Unlock()
		progress := false
		for _, target := range targets {
			for {
				h.retryMu.Lock()
				q := h.pending[target]
				if len(q) == 0 {
					delete(h.pending, target)
					h.retryMu.Unlock()
					break
				}
				m := q[0]
				h.retryMu.Unlock()
				if !h.tryDeliver(context.Background(), m) {
					break
				}
				progress = true
				h.retryMu.Lock()
				h.pending[target] = h.pending[target][1:]
				h.waiting.Add(-1)
				h.retryMu.Unlock()
			}
		}
		if progress {
			backoff = time.Millisecond
		} else {
			backoff = min(2*backoff, 200*time.Millisecond)
		}
	}
}

func (h *Host) closing() bool { return h.closed.Load() }

// Close stops taking messages, lets turns in flight finish and commit,
// deactivates every activation and releases the runtimes. Messages still
// in the outbox stay there for the next run. The store stays open.
func (h *Host) Close(ctx context.Context) error {
	if h.closed.Swap(true) {
		return nil
	}
	h.rem.stop()
	h.topics.follow.closeAll()
	h.handMu.Lock()
	err := h.sched.Close(ctx)
	h.handMu.Unlock()
	close(h.stop)
	h.wg.Wait()
	h.typesMu.Lock()
	for _, t := range h.types {
		t.current().v.retire(ctx)
	}
	h.typesMu.Unlock()
	if cerr := h.cache.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

// The host's activations report their guest memory to the scheduler.
var _ scheduler.MemoryReporter = (*activation)(nil)

// activator creates activations for the scheduler.
type activator Host

func (ac *activator) TypeOptions(typ string) (scheduler.TypeOptions, error) {
	t, ok := (*Host)(ac).lookupType(typ)
	if !ok {
		return scheduler.TypeOptions{}, abi.NewError(abi.CodeUnknownType, "no actor type "+strconv.Quote(typ))
	}
	d := t.current()
	return scheduler.TypeOptions{Mailbox: d.cfg.Mailbox, IdleTimeout: d.cfg.IdleTimeout, Memory: d.v.startSize.Load(), MaxLocal: d.cfg.StatelessWorker, Reentrant: d.cfg.Reentrant, TurnLimit: d.cfg.TurnTimeout}, nil
}

func (ac *activator) Activate(ctx context.Context, ref abi.Ref) (scheduler.Actor, error) {
	h := (*Host)(ac)
	t, ok := h.lookupType(ref.Type)
	if !ok {
		return nil, abi.NewError(abi.CodeUnknownType, "no actor type "+strconv.Quote(ref.Type))
	}
	if t.current().cfg.StatelessWorker > 0 {
		return h.activateWorker(ctx, t, ref)
	}
	var (
		lease *held // nil without ownership
		err   error
	)
	if h.own != nil {
		// The lease comes before the state: what is loaded then is what
		// the last owner committed, and no other node commits after it.
		if lease, err = h.own.claim(ctx, ref.String()); err != nil {
			return nil, err
		}
		// The holding before, if it lapsed, ended untold.
		if err := h.tellLapsed(ctx, ref, lease); err != nil {
			h.own.release(ctx, lease, h.log.Warn) // lost: forgets it
			return nil, err
		}
	}
	self := ref.String()
	snap, err := h.store.Load(ctx, self)
	if err != nil {
		if lease != nil {
			h.own.release(ctx, lease, h.log.Warn)
		}
		return nil, abi.NewError(abi.CodeUnavailable, "loading the state of "+self+": "+err.Error())
	}
	if snap.State == nil {
		snap.State = make(map[string][]byte)
	}
	a := &activation{h: h, typ: t, ref: ref, state: snap.State, lease: lease, self: self}
	a.p.init(snap.Version)
	if err := a.ensureInstance(ctx, t.current()); err != nil {
		if lease != nil {
			h.own.release(ctx, lease, h.log.Warn)
		}
		if h.obs != nil {
			h.obs.ActivationFailed(ref.Type, Outcome(err))
		}
		return nil, err
	}
	if h.obs != nil {
		h.obs.ActivationCreated(ref.Type)
	}
	return a, nil
}

// asABIError gives every error that reaches a caller a code.
func asABIError(err error) *abi.Error {
	var e *abi.Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) {
		return abi.NewError(abi.CodeUnavailable, "the call was cancelled")
	}
	return abi.NewError(abi.CodeUnavailable, err.Error())
}

func itoa(n int) string { return strconv.Itoa(n) }
