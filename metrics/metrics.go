package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wactor/wactor/host"
)

// Label values that stand for more than one thing.
const (
	// OtherMethod is the method label of the turns whose method has no
	// series of its own: past the per-type bound, empty (a reminder
	// firing that failed before its method was read), longer than
	// MaxMethodLen, not valid UTF-8, or answered unknown_method.
	OtherMethod = "(other)"
	// ClientSender is the type label of messages sent from outside the
	// actors (HTTP, the Go API) in wactor_messages_sent_total.
	ClientSender = "(client)"
	// OtherRoute is the route label of HTTP requests no route pattern
	// matched (a redirect of the router, say).
	OtherRoute = "(other)"
)

// Bounds on the method label.
const (
	// DefaultMaxMethods is how many methods of one type get series of
	// their own when Options.MaxMethods is 0.
	DefaultMaxMethods = 64
	// MaxMethodLen is the longest method name that gets series of its
	// own, in bytes.
	MaxMethodLen = 128
)

// scrapeTimeout bounds what one scrape waits for the store.
const scrapeTimeout = 5 * time.Second

// Options configures New.
type Options struct {
	// MaxMethods bounds the methods of one actor type that get series of
	// their own, first come first served; the turns of the others count
	// under OtherMethod (0: DefaultMaxMethods).
	MaxMethods int
	// Logger receives a Warn record when a scrape cannot read the store.
	Logger *slog.Logger
}

// Metrics holds wactor's Prometheus metrics on a registry of its own, with
// the Go runtime's and the process's. It implements host.Observer, and
// the gateway's request observer (RequestDone). Create it, pass it as
// host.Config.Observer, then Watch the host so that scrapes report its
// levels. Safe for concurrent use.
type Metrics struct {
	host.NopObserver
	reg        *prometheus.Registry
	maxMethods int
	log        *slog.Logger
	levels     atomic.Pointer[levelsFunc]

	activationsCreated *prometheus.CounterVec
	activationFailures *prometheus.CounterVec
	deactivations      *prometheus.CounterVec
	instanceStart      *prometheus.HistogramVec
	turns              *prometheus.CounterVec
	turnDuration       *prometheus.HistogramVec
	received           *prometheus.CounterVec
	sent               *prometheus.CounterVec
	guestFailures      *prometheus.CounterVec
	commitDuration     prometheus.Histogram
	commitTurns        prometheus.Counter
	commitFailures     prometheus.Counter
	remindersFired     *prometheus.CounterVec
	reminderLateness   *prometheus.HistogramVec
	deadLettered       *prometheus.CounterVec
	httpRequests       *prometheus.CounterVec
	httpDuration       *prometheus.HistogramVec

	types   cowMap[*typeStats]             // by actor type
	senders cowMap[*[2]prometheus.Counter] // sent asks and tells, by actor type
	client  [2]prometheus.Counter          // sent asks and tells of ClientSender
	routes  cowMap[*routeStats]            // by route pattern
}

type levelsFunc func(context.Context) (host.Levels, error)

// Buckets of the histograms, in seconds or turns.
var (
	// turnBuckets spans a tiny turn of a C guest (a few µs) to a turn
	// near the default execution limit (5 s).
	turnBuckets = []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	// startBuckets spans a snapshot restore (tens of µs) to a standard-Go
	// guest's first call (several ms) and slow starts.
	startBuckets = []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
	// commitBuckets spans a memory store (µs) to fsyncs of a busy disk.
	commitBuckets = []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
	// lateBuckets: reminders fire on a millisecond alarm; late ones wait
	// for a busy mailbox, or for a restart.
	lateBuckets = []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 60, 300, 3600}
	// httpBuckets spans a cached answer to an ask near its timeout.
	httpBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
)

// New returns the metrics, registered on a new registry with the Go
// runtime's and the process's collectors.
func New(opts Options) *Metrics {
	if opts.MaxMethods <= 0 {
		opts.MaxMethods = DefaultMaxMethods
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), maxMethods: opts.MaxMethods, log: opts.Logger}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	}
	m.activationsCreated = counter("wactor_activations_created_total", "Activations created: state loaded, instance started.", "type")
	m.activationFailures = counter("wactor_activation_failures_total", "Activations that failed to be created, by outcome (error code).", "type", "outcome")
	m.deactivations = counter("wactor_deactivations_total", "Activations deactivated, by reason: idle, requested, evicted, shutdown.", "type", "reason")
	m.instanceStart = histogram("wactor_instance_start_seconds", "Time to build an instance and run its activate hook.", startBuckets, "type")
	m.turns = counter("wactor_turns_total", "Messages processed, by outcome: ok, app_error or the runtime's error code.", "type", "method", "outcome")
	m.turnDuration = histogram("wactor_turn_duration_seconds", "Time from the start of a turn until its outcome is known, its commit included.", turnBuckets, "type", "method")
	m.received = counter("wactor_messages_received_total", "Messages processed by actors of the type, by kind: ask, tell, timer, reminder.", "type", "kind")
	m.sent = counter("wactor_messages_sent_total", "Asks and tells sent by actors of the type, or by clients (type \"(client)\"); tells count once committed.", "type", "kind")
	m.guestFailures = counter("wactor_guest_failures_total", "Guests that broke and were dropped, by code: turn_timeout (interrupted), memory_exhausted, trapped, bad_reply.", "type", "code")
	m.commitDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wactor_commit_duration_seconds", Help: "Time of a store commit of turns.", Buckets: commitBuckets})
	// A counter rather than a histogram of turns per commit: the mean
	// batch is this over the commits counted by wactor_commit_duration_seconds,
	// and a commit pays for one histogram rather than two.
	m.commitTurns = prometheus.NewCounter(prometheus.CounterOpts{Name: "wactor_commit_turns_total", Help: "Turns committed; over wactor_commit_duration_seconds_count, the turns merged into one commit."})
	m.commitFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "wactor_commit_failures_total", Help: "Store commits of turns that failed."})
	m.remindersFired = counter("wactor_reminders_fired_total", "Durable reminders fired.", "type")
	m.reminderLateness = histogram("wactor_reminder_lateness_seconds", "How long after its due time a reminder fired.", lateBuckets, "type")
	m.deadLettered = counter("wactor_dead_letters_total", "Tells given up on: kept in the dead letters, or dropped.", "type", "outcome")
	m.httpRequests = counter("wactor_http_requests_total", "HTTP requests, by route pattern and status code.", "route", "code")
	m.httpDuration = histogram("wactor_http_request_duration_seconds", "Time to answer an HTTP request, by route pattern.", httpBuckets, "route")
	m.client = [2]prometheus.Counter{m.sent.WithLabelValues(ClientSender, string(host.KindAsk)), m.sent.WithLabelValues(ClientSender, string(host.KindTell))}
	m.reg.MustRegister(m.activationsCreated, m.activationFailures, m.deactivations, m.instanceStart,
		m.turns, m.turnDuration, m.received, m.sent, m.guestFailures,
		m.commitDuration, m.commitTurns, m.commitFailures,
		m.remindersFired, m.reminderLateness, m.deadLettered, m.httpRequests, m.httpDuration,
		levelsCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the metrics are on, to add more or to
// gather them in tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text (or protobuf) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slogErrors{m.log}, MaxRequestsInFlight: 4})
}

// slogErrors adapts a slog.Logger to promhttp's error log.
type slogErrors struct{ log *slog.Logger }

func (l slogErrors) Println(v ...any) { l.log.Warn("serving metrics", "err", v) }

// Watch makes scrapes report the levels of h (live activations, mailbox
// depth, guest memory, outbox, reminders and dead letters).
func (m *Metrics) Watch(h *host.Host) {
	f := levelsFunc(h.Levels)
	m.levels.Store(&f)
}

// typeStats caches the series of one actor type, so that a turn finds
// them without hashing label values.
type typeStats struct {
	name     string
	methods  cowMap[*methodStats]
	count    atomic.Int32 // methods in methods, OtherMethod left out
	other    *methodStats
	received [4]prometheus.Counter // by kindIndex
}

// methodStats caches the series of one method of a type.
type methodStats struct {
	duration prometheus.Observer
	ok       prometheus.Counter
	outcomes cowMap[prometheus.Counter] // the other outcomes, a small fixed set
	turns    *prometheus.CounterVec
	labels   [2]string // type, method
}

func (m *Metrics) typeStats(typ string) *typeStats {
	if ts, ok := m.types.get(typ); ok {
		return ts
	}
	return m.types.add(typ, func() *typeStats {
		ts := &typeStats{name: typ}
		for i, k := range []host.MessageKind{host.KindAsk, host.KindTell, host.KindTimer, host.KindReminder} {
			ts.received[i] = m.received.WithLabelValues(typ, string(k))
		}
		ts.other = m.newMethodStats(typ, OtherMethod)
		return ts
	})
}

func (m *Metrics) newMethodStats(typ, method string) *methodStats {
	return &methodStats{
		duration: m.turnDuration.WithLabelValues(typ, method),
		ok:       m.turns.WithLabelValues(typ, method, host.OutcomeOK),
		turns:    m.turns,
		labels:   [2]string{typ, method},
	}
}

// method returns the series of method, within the per-type bound.
func (m *Metrics) method(ts *typeStats, method, outcome string) *methodStats {
	if ms, ok := ts.methods.get(method); ok {
		return ms
	}
	if outcome == "unknown_method" || method == "" || len(method) > MaxMethodLen || !utf8.ValidString(method) ||
		int(ts.count.Load()) >= m.maxMethods {
		return ts.other
	}
	ms := ts.methods.addIf(method, func() (*methodStats, bool) {
		// Under the map's lock: the count and the map move together.
		if int(ts.count.Load()) >= m.maxMethods {
			return nil, false
		}
		ts.count.Add(1)
		return m.newMethodStats(ts.name, method), true
	})
	if ms == nil {
		return ts.other
	}
	return ms
}

func (ms *methodStats) count(outcome string) {
	if outcome == host.OutcomeOK {
		ms.ok.Inc()
		return
	}
	c, ok := ms.outcomes.get(outcome)
	if !ok {
		c = ms.outcomes.add(outcome, func() prometheus.Counter {
			return ms.turns.WithLabelValues(ms.labels[0], ms.labels[1], outcome)
		})
	}
	c.Inc()
}

func kindIndex(k host.MessageKind) int {
	switch k {
	case host.KindAsk:
		return 0
	case host.KindTell:
		return 1
	case host.KindTimer:
		return 2
	}
	return 3
}

// TurnDone implements host.Observer.
func (m *Metrics) TurnDone(typ, method string, kind host.MessageKind, outcome string, took time.Duration) {
	ts := m.typeStats(typ)
	ts.received[kindIndex(kind)].Inc()
	ms := m.method(ts, method, outcome)
	ms.count(outcome)
	ms.duration.Observe(took.Seconds())
}

// Sent implements host.Observer.
func (m *Metrics) Sent(typ string, kind host.MessageKind, n int) {
	i := 1
	if kind == host.KindAsk {
		i = 0
	}
	if typ == "" {
		m.client[i].Add(float64(n))
		return
	}
	s, ok := m.senders.get(typ)
	if !ok {
		s = m.senders.add(typ, func() *[2]prometheus.Counter {
			return &[2]prometheus.Counter{m.sent.WithLabelValues(typ, string(host.KindAsk)), m.sent.WithLabelValues(typ, string(host.KindTell))}
		})
	}
	s[i].Add(float64(n))
}

// Committed implements host.Observer.
func (m *Metrics) Committed(turns int, took time.Duration, err error) {
	if err != nil {
		m.commitFailures.Inc()
		return
	}
	m.commitDuration.Observe(took.Seconds())
	m.commitTurns.Add(float64(turns))
}

// ActivationCreated implements host.Observer.
func (m *Metrics) ActivationCreated(typ string) { m.activationsCreated.WithLabelValues(typ).Inc() }

// ActivationFailed implements host.Observer.
func (m *Metrics) ActivationFailed(typ, outcome string) {
	m.activationFailures.WithLabelValues(typ, outcome).Inc()
}

// ActivationEnded implements host.Observer.
func (m *Metrics) ActivationEnded(typ, reason string) {
	m.deactivations.WithLabelValues(typ, reason).Inc()
}

// InstanceStarted implements host.Observer.
func (m *Metrics) InstanceStarted(typ string, took time.Duration) {
	m.instanceStart.WithLabelValues(typ).Observe(took.Seconds())
}

// GuestFailed implements host.Observer.
func (m *Metrics) GuestFailed(typ, code string) { m.guestFailures.WithLabelValues(typ, code).Inc() }

// ReminderFired implements host.Observer.
func (m *Metrics) ReminderFired(typ string, late time.Duration) {
	m.remindersFired.WithLabelValues(typ).Inc()
	m.reminderLateness.WithLabelValues(typ).Observe(max(late, 0).Seconds())
}

// DeadLettered implements host.Observer.
func (m *Metrics) DeadLettered(typ string, kept bool) {
	outcome := "kept"
	if !kept {
		outcome = "dropped"
	}
	m.deadLettered.WithLabelValues(typ, outcome).Inc()
}

// routeStats caches the series of one route.
type routeStats struct {
	duration prometheus.Observer
	codes    cowMap[prometheus.Counter] // by status code, in decimal
	route    string
}

// RequestDone counts an HTTP request that matched route (a pattern of the
// gateway's routes table; "" for none) and was answered with status, in
// took. The gateway calls it for every request.
func (m *Metrics) RequestDone(route string, status int, took time.Duration) {
	if route == "" {
		route = OtherRoute
	}
	rs, ok := m.routes.get(route)
	if !ok {
		rs = m.routes.add(route, func() *routeStats {
			return &routeStats{duration: m.httpDuration.WithLabelValues(route), route: route}
		})
	}
	code := statusText(status)
	c, ok := rs.codes.get(code)
	if !ok {
		c = rs.codes.add(code, func() prometheus.Counter { return m.httpRequests.WithLabelValues(rs.route, code) })
	}
	c.Inc()
	rs.duration.Observe(took.Seconds())
}

// statusCodes holds the decimal form of every valid HTTP status, so that
// a request costs no conversion.
var statusCodes = func() (s [600]string) {
	for i := 100; i < len(s); i++ {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusText(status int) string {
	if status >= 100 && status < len(statusCodes) {
		return statusCodes[status]
	}
	return "other"
}

// cowMap is a map read without a lock and copied on write: for the few
// keys (types, methods, outcomes, routes) that every event looks up.
type cowMap[V any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]V]
}

func (c *cowMap[V]) get(k string) (V, bool) {
	if p := c.m.Load(); p != nil {
		v, ok := (*p)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// add returns the value of k, making it with mk if k has none.
func (c *cowMap[V]) add(k string, mk func() V) V {
	return c.addIf(k, func() (V, bool) { return mk(), true })
}

// addIf returns the value of k, or makes it with mk and adds it when mk
// says so; otherwise it returns what mk returned.
func (c *cowMap[V]) addIf(k string, mk func() (V, bool)) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	v, ok := mk()
	if !ok {
		return v
	}
	next := make(map[string]V, 1)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	next[k] = v
	c.m.Store(&next)
	return v
}
