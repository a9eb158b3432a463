package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/wactor/wactor/bench/internal/report"
)

var execLookPath = exec.LookPath

// sizes are the shapes of the scenarios. Standard-Go guests get smaller
// shapes where they would not fit: each of their activations holds
// megabytes (the Go runtime's heap), against tens of KiB for C.
type sizes struct {
	floorDur time.Duration

	ringN, ringNGo, ringLaps int

	coldRingN int

	fanN, fanNGo, fanK, fanKGo int

	ppAsks, ppSamples int

	stormN, stormNGo, stormCallers int

	// actNGoRaw is smaller than actNGo: each raw wazero instance of a Go
	// guest holds its 3.7 MiB on the Go heap.
	actN, actNGo, actNGoRaw int

	httpDur   time.Duration
	httpConns int

	durDur        time.Duration
	durCallers    int
	durHotCallers int // on one actor

	clusterDur     time.Duration
	clusterCallers int
	clusterSamples int
}

var fullSizes = sizes{
	floorDur: 500 * time.Millisecond,
	ringN:    10_000, ringNGo: 1_000, ringLaps: 20,
	coldRingN: 10_000,
	fanN:      1_000, fanNGo: 1_000, fanK: 100, fanKGo: 20,
	ppAsks: 20_000, ppSamples: 20_000,
	stormN: 100_000, stormNGo: 1_000, stormCallers: 8,
	actN: 5_000, actNGo: 2_000, actNGoRaw: 200,
	httpDur: 4 * time.Second, httpConns: 200,
	durDur: 3 * time.Second, durCallers: 64, durHotCallers: 200,
	clusterDur: 5 * time.Second, clusterCallers: 64, clusterSamples: 2_000,
}

var quickSizes = sizes{
	floorDur: 100 * time.Millisecond,
	ringN:    1_000, ringNGo: 200, ringLaps: 5,
	coldRingN: 1_000,
	fanN:      1_000, fanNGo: 200, fanK: 10, fanKGo: 5,
	ppAsks: 3_000, ppSamples: 3_000,
	stormN: 10_000, stormNGo: 200, stormCallers: 8,
	actN: 1_000, actNGo: 200, actNGoRaw: 50,
	httpDur: time.Second, httpConns: 200,
	durDur: time.Second, durCallers: 64, durHotCallers: 200,
	clusterDur: 2 * time.Second, clusterCallers: 32, clusterSamples: 500,
}

// childTimeout bounds one measurement.
const childTimeout = 5 * time.Minute

// system is one row of a scenario: a way to take one set of figures.
type system struct {
	name, shape string
	measure     func(context.Context) (result, error)
	err         error // why it cannot run at all
}

type scenarioDef struct {
	name, title, desc string
	metrics           []report.Metric
	ratios            []report.Ratio
	// systems lists the rows; an error means the scenario cannot run.
	systems func(*env) ([]system, error)
}

// child is a system measured by sp in a child process.
func (e *env) child(name, shape string, sp spec) system {
	sp.Cache, sp.WorkDir = e.cache, e.work
	return system{name: name, shape: shape, measure: func(ctx context.Context) (result, error) {
		return runChild(ctx, &sp, childTimeout)
	}}
}

// wactor is a system running guest (e.g. "ring-c") in a child process.
func (e *env) wactor(name, shape, guestName string, sp spec) system {
	g := e.guests[guestName]
	if g == nil {
		return system{name: name, shape: shape, err: fmt.Errorf("no guest %s", guestName)}
	}
	if g.Err != nil {
		return system{name: name, shape: shape, err: fmt.Errorf("guest %s not built: %v", guestName, g.Err)}
	}
	sp.Guest, sp.GoGuest = g.Path, g.Go
	return e.child(name, shape, sp)
}

// erlang is a system running an Erlang program.
func (e *env) erlang(shape, module string, args ...int) system {
	s := system{name: "erlang", shape: shape}
	if e.erl.Err != nil {
		s.err = e.erl.Err
		return s
	}
	strs := make([]string, len(args))
	for i, a := range args {
		strs[i] = fmt.Sprint(a)
	}
	s.measure = func(ctx context.Context) (result, error) {
		return runErlang(ctx, e.erl, childTimeout, module, strs...)
	}
	return s
}

func n(v int) string { return report.FormatCount(v) }

// guestFloorDesc describes the guest-call floor rows.
const guestFloorDesc = "The floor, " + guestFloorC + ", is the same C guest's messages in bare wazero, " +
	"on as many instances, each message one wactor_alloc and wactor_handle call with the request " +
	"envelope wactor writes and its imports answered by a map per instance, in one loop on one " +
	"goroutine: no store, no scheduler, no delivery."

// The systems' row names.
const (
	wactorC  = "wactor-c"
	wactorGo = "wactor-go"
	// guestFloorC is the C guest's calls alone in bare wazero (guestfloor.go).
	guestFloorC = "wazero-c guest calls"
	protoactor  = "protoactor"
	erlang      = "erlang"

	closeChecks = "wazero (close on ctx done)"
	goNoSnap    = wactorGo + " (no snapshots)"

	hotActor      = wactorC + " (1 actor)"
	hotUnpiped    = wactorC + " (1 actor, unpipelined)"
	badgerGrouped = "badger (grouped)"
	badgerTxn     = "badger (txn per turn)"

	netHTTP = "net/http ceiling"
	// oneWorker is net/http whose handler waits for one worker goroutine
	// (httpOneWorker): the wait of a request to one busy actor alone.
	oneWorker = "net/http, one worker"

	singleNode   = "1 node (badger)"
	clusterOwner = "3 nodes, owner's gateway"
	clusterCross = "3 nodes, another gateway"
)

var scenarios = []*scenarioDef{
	{
		name:  "floor",
		title: "raw wazero calls",
		desc: "What wazero itself costs, below everything wactor adds: a Go call into a no-op exported " +
			"function, and a guest loop calling a no-op host function (api.GoModuleFunc, as wactor " +
			"registers its imports). The second row compiles with WithCloseOnContextDone, wazero's own " +
			"way to interrupt a guest: it starts a watcher goroutine for every call from Go and " +
			"checks for closing at every loop back-edge. wactor meters fuel instead (host " +
			"BenchmarkGuestCall and BenchmarkGuestCompute compare the two).",
		metrics: []report.Metric{
			{Key: "export_ns", Label: "ns per export call", Lower: true},
			{Key: "import_ns", Label: "ns per import call", Lower: true},
		},
		ratios: []report.Ratio{
			{Metric: "export_ns", Num: closeChecks, Den: "wazero"},
			{Metric: "import_ns", Num: closeChecks, Den: "wazero"},
		},
		systems: func(e *env) ([]system, error) {
			shape := fmt.Sprintf("calls for ≥ %v", e.sz.floorDur)
			return []system{
				e.child("wazero", shape, spec{Measure: "floor/wazero", Dur: e.sz.floorDur}),
				e.child(closeChecks, shape, spec{Measure: "floor/wazero", Dur: e.sz.floorDur, Checks: true}),
			}, nil
		},
	},
	{
		name:  "ring",
		title: "a token around a ring of actors, by tells",
		desc: "N actors; each passes the token to the next with a tell carrying the hops left, the " +
			"last tells a sink. Every node is activated and the token goes round once (not timed), " +
			"then it goes round the given number of laps: messages (hops) per second. One token, so " +
			"this is the latency of a hop (wactor: a turn, the commit of its tell to the in-memory " +
			"store's outbox, the delivery). For wactor, the processor time of the whole process " +
			"(all threads, garbage collection included) per message, which other work on a busy " +
			"machine disturbs less than the rate. " + guestFloorDesc,
		metrics: []report.Metric{{Key: "msgs_per_s", Label: "msgs/s"}, {Key: "cpu_us", Label: "cpu-µs per msg", Lower: true}},
		ratios: []report.Ratio{
			{Metric: "msgs_per_s", Num: wactorC, Den: protoactor},
			{Metric: "msgs_per_s", Num: wactorGo, Den: protoactor},
			{Metric: "msgs_per_s", Num: wactorC, Den: erlang},
			{Metric: "msgs_per_s", Num: wactorGo, Den: wactorC},
			{Metric: "msgs_per_s", Num: guestFloorC, Den: protoactor},
			{Metric: "cpu_us", Num: wactorC, Den: guestFloorC},
		},
		systems: func(e *env) ([]system, error) {
			z := e.sz
			shape := func(nodes int) string { return n(nodes) + " actors × " + n(z.ringLaps) + " laps" }
			return []system{
				e.wactor(wactorC, shape(z.ringN), "ring-c", spec{Measure: "ring/wactor", N: z.ringN, Laps: z.ringLaps}),
				e.wactor(wactorGo, shape(z.ringNGo), "ring-go", spec{Measure: "ring/wactor", N: z.ringNGo, Laps: z.ringLaps}),
				e.child(protoactor, shape(z.ringN), spec{Measure: "ring/protoactor", N: z.ringN, Laps: z.ringLaps}),
				e.erlang(shape(z.ringN)+", plain sends", "wb_ring", z.ringN, z.ringLaps),
				e.wactor(guestFloorC, shape(z.ringN)+", one goroutine", "ring-c", spec{Measure: "ringfloor/wazero", N: z.ringN, Laps: z.ringLaps}),
			}, nil
		},
	},
	{
		name:  "coldring",
		title: "a token once around a ring of actors not yet active, under the default memory budget",
		desc: "The ring above, in C and in standard Go, with the same number of nodes in both, none " +
			"active at the start: the first lap activates every node as the token reaches it, then a " +
			"warm lap. No cap on activations, and the default guest memory budget (25% of the " +
			"machine's memory): a budget that counts more than guests really hold evicts nodes " +
			"during the lap. Lap times; the peak resident memory of the process (VmHWM, which counts " +
			"each instance's mapping of its snapshot's pages again, though they are shared), the " +
			"peak of its anonymous resident memory (RssAnon, sampled every 50 ms), and what the " +
			"guest memory budget counted after the laps.",
		metrics: []report.Metric{
			{Key: "first_lap_s", Label: "first lap s", Lower: true},
			{Key: "warm_lap_s", Label: "warm lap s", Lower: true},
			{Key: "peak_rss_mib", Label: "peak RSS MiB", Lower: true},
			{Key: "peak_anon_mib", Label: "peak RssAnon MiB", Lower: true},
			{Key: "budget_used_mib", Label: "budget used MiB", Lower: true},
		},
		ratios: []report.Ratio{
			{Metric: "first_lap_s", Num: wactorGo, Den: wactorC},
			{Metric: "peak_anon_mib", Num: wactorGo, Den: wactorC},
		},
		systems: func(e *env) ([]system, error) {
			k := e.sz.coldRingN
			shape := n(k) + " actors, 1 cold lap + 1 warm"
			sp := spec{Measure: "coldring/wactor", N: k}
			return []system{
				e.wactor(wactorC, shape, "ring-c", sp),
				e.wactor(wactorGo, shape, "ring-go", sp),
			}, nil
		},
	},
	{
		name:  "fanout",
		title: "tells from one caller to many live actors",
		desc: "One caller sends K counter adds to each of 1,000 live actors, round robin, then asks " +
			"every actor for its total (each get queues behind its adds): messages per second until " +
			"every total is right. wactor: each tell is committed to the in-memory store's outbox " +
			"before Tell returns; the processor time of the whole process per message, as in ring. " +
			guestFloorDesc + " Its rate is one core's; two cores could at most double it.",
		metrics: []report.Metric{{Key: "msgs_per_s", Label: "msgs/s"}, {Key: "cpu_us", Label: "cpu-µs per msg", Lower: true}},
		ratios: []report.Ratio{
			{Metric: "msgs_per_s", Num: wactorC, Den: protoactor},
			{Metric: "msgs_per_s", Num: wactorGo, Den: protoactor},
			{Metric: "msgs_per_s", Num: wactorGo, Den: wactorC},
			{Metric: "msgs_per_s", Num: guestFloorC, Den: protoactor},
			{Metric: "cpu_us", Num: wactorC, Den: guestFloorC},
		},
		systems: func(e *env) ([]system, error) {
			z := e.sz
			shape := func(actors, k int) string { return n(actors) + " actors × " + n(k) + " tells" }
			return []system{
				e.wactor(wactorC, shape(z.fanN, z.fanK), "counter-c", spec{Measure: "fanout/wactor", N: z.fanN, K: z.fanK}),
				e.wactor(wactorGo, shape(z.fanNGo, z.fanKGo), "counter-go", spec{Measure: "fanout/wactor", N: z.fanNGo, K: z.fanKGo}),
				e.child(protoactor, shape(z.fanN, z.fanK), spec{Measure: "fanout/protoactor", N: z.fanN, K: z.fanK}),
				e.wactor(guestFloorC, shape(z.fanN, z.fanK)+", one goroutine", "counter-c", spec{Measure: "fanoutfloor/wazero", N: z.fanN, K: z.fanK}),
			}, nil
		},
	},
	{
		name:  "pingpong",
		title: "asks between two actors",
		desc: "Actor a asks actor b's pong K times in all, one after the other, inside its own turns " +
			"(pings of 1,000 asks): asks per second between actors. Then the benchmark itself asks " +
			"b's pong one at a time, timing each: p50 and p99 latency of an ask from outside " +
			"(wactor: Host.Ask; protoactor: RequestFuture; Erlang: gen_server:call).",
		metrics: []report.Metric{
			{Key: "asks_per_s", Label: "asks/s (actor to actor)"},
			{Key: "p50_us", Label: "p50 µs (host ask)", Lower: true},
			{Key: "p99_us", Label: "p99 µs (host ask)", Lower: true},
		},
		ratios: []report.Ratio{
			{Metric: "asks_per_s", Num: wactorC, Den: protoactor},
			{Metric: "asks_per_s", Num: wactorGo, Den: protoactor},
			{Metric: "asks_per_s", Num: wactorC, Den: erlang},
			{Metric: "p50_us", Num: wactorC, Den: protoactor},
			{Metric: "p50_us", Num: wactorC, Den: erlang},
		},
		systems: func(e *env) ([]system, error) {
			z := e.sz
			shape := n(z.ppAsks) + " asks, " + n(z.ppSamples) + " timed"
			sp := spec{Measure: "pingpong/wactor", K: z.ppAsks, Samples: z.ppSamples}
			return []system{
				e.wactor(wactorC, shape, "pingpong-c", sp),
				e.wactor(wactorGo, shape, "pingpong-go", sp),
				e.child(protoactor, shape, spec{Measure: "pingpong/protoactor", K: z.ppAsks, Samples: z.ppSamples}),
				e.erlang(shape+", gen_server", "wb_pingpong", z.ppAsks, z.ppSamples),
			}, nil
		},
	},
	{
		name:  "storm",
		title: "activating many distinct actors",
		desc: "8 concurrent callers ask N distinct actors once each (wactor: counter get, so each " +
			"activation loads its empty state and instantiates the module; protoactor: spawn and " +
			"request; Erlang: spawn and a message round trip). They all stay active. Activations " +
			"per second; for wactor, the processor time of the whole process per activation " +
			"(60,000 activations/s on 2 cores is at most 33 cpu-µs each); and growth of the " +
			"process's resident memory (VmRSS) divided by N.",
		metrics: []report.Metric{
			{Key: "per_s", Label: "activations/s"},
			{Key: "cpu_us", Label: "cpu-µs per activation", Lower: true},
			{Key: "kib_per", Label: "KiB RSS per activation", Lower: true},
		},
		ratios: []report.Ratio{
			{Metric: "per_s", Num: wactorC, Den: protoactor},
			{Metric: "per_s", Num: wactorC, Den: erlang},
			{Metric: "per_s", Num: wactorGo, Den: wactorC},
			{Metric: "kib_per", Num: wactorC, Den: protoactor},
			{Metric: "kib_per", Num: wactorC, Den: erlang},
			{Metric: "kib_per", Num: wactorGo, Den: wactorC},
		},
		systems: func(e *env) ([]system, error) {
			z := e.sz
			shape := func(k int) string { return n(k) + " actors, " + n(z.stormCallers) + " callers" }
			sp := func(k int) spec { return spec{Measure: "storm/wactor", N: k, Callers: z.stormCallers} }
			return []system{
				e.wactor(wactorC, shape(z.stormN), "counter-c", sp(z.stormN)),
				e.wactor(wactorGo, shape(z.stormNGo), "counter-go", sp(z.stormNGo)),
				e.child(protoactor, shape(z.stormN), spec{Measure: "storm/protoactor", N: z.stormN, Callers: z.stormCallers}),
				e.erlang(shape(z.stormN)+", spawn", "wb_storm", z.stormN, z.stormCallers),
			}, nil
		},
	},
	{
		name:  "activation",
		title: "activating an actor, per guest language, against raw wazero",
		desc: "One caller asks N distinct counters once each (counter get: the activation loads its " +
			"empty state, instantiates the module, runs its activate hook and the turn); they all stay " +
			"active. The floor, wazero-LANG, is wazero alone instantiating the same module as built, " +
			"_initialize run, the host's imports as no-ops, all instances kept live; wazero+export-LANG " +
			"also looks up wactor_handle in each instance and keeps it, as a host that calls its " +
			"instances must (a wazero api.Function holds a call engine with its own ~11.5 KiB stack); " +
			"wazero+call-LANG also calls wactor_abi_version once in each instance through a function it " +
			"keeps, as a host's first message does (the call writes the top of that stack, a page of its " +
			"own, which the C floor's _initialize writes too). wactor-go (no " +
			"snapshots) is wactor-go with host.Config.NoSnapshots: every activation runs the Go " +
			"runtime's initialisation, as before snapshots. Activations per " +
			"second; the processor time of the whole process (all threads, garbage collection " +
			"included) per activation, which other work on a busy machine disturbs less than " +
			"the rate; and growth of the process's resident memory (VmRSS) divided by N.",
		metrics: []report.Metric{
			{Key: "per_s", Label: "activations/s"},
			{Key: "cpu_us", Label: "cpu-µs per activation", Lower: true},
			{Key: "kib_per", Label: "KiB RSS per activation", Lower: true},
		},
		ratios: append(activationRatios(),
			report.Ratio{Metric: "per_s", Num: wactorGo, Den: goNoSnap},
			report.Ratio{Metric: "cpu_us", Num: wactorGo, Den: goNoSnap},
			report.Ratio{Metric: "kib_per", Num: wactorGo, Den: goNoSnap}),
		systems: func(e *env) ([]system, error) {
			var rows []system
			for _, lang := range languages {
				k, raw := e.sz.actN, e.sz.actN
				if lang == "go" {
					k, raw = e.sz.actNGo, e.sz.actNGoRaw
				}
				shape := n(k) + " actors, 1 caller"
				rows = append(rows,
					e.wactor("wactor-"+lang, shape, "counter-"+lang, spec{Measure: "storm/wactor", N: k, Callers: 1}),
					e.wactor("wazero-"+lang, n(raw)+" instances", "counter-"+lang, spec{Measure: "activation/wazero", N: raw}))
				if lang != "go" {
					rows = append(rows, e.wactor("wazero+export-"+lang, n(raw)+" instances", "counter-"+lang,
						spec{Measure: "activation/wazero-export", N: raw}),
						e.wactor("wazero+call-"+lang, n(raw)+" instances", "counter-"+lang,
							spec{Measure: "activation/wazero-call", N: raw}))
				}
			}
			rows = append(rows, e.wactor(goNoSnap, n(e.sz.actNGoRaw)+" actors, 1 caller", "counter-go",
				spec{Measure: "storm/wactor", N: e.sz.actNGoRaw, Callers: 1, NoSnap: true}))
			return rows, nil
		},
	},
	{
		name:  "http",
		title: "the HTTP gateway under wrk",
		desc: "wrk (2 threads) against an in-process http.Server on 127.0.0.1: POST " +
			"/v1/actors/counter/{id}/add with {\"n\":1}, the id picked at random per request among 1 " +
			"or 100 actors (a wrk Lua script); in-memory store. The ceiling is a bare net/http handler " +
			"on the same route that reads the body and answers a constant; net/http, one worker is that " +
			"handler waiting for one goroutine to answer it through a channel, the wait of a request to " +
			"one busy actor and nothing else: the floor of the (1 actor) rows. wrk and the server share " +
			"the machine's cores. errors counts non-2xx answers and socket errors. cpu-µs per request " +
			"is the server process's processor time (wrk's is not counted) over the requests served.",
		metrics: []report.Metric{
			{Key: "rps", Label: "requests/s"},
			{Key: "cpu_us", Label: "cpu-µs per request", Lower: true},
			{Key: "p50_ms", Label: "p50 ms", Lower: true},
			{Key: "p99_ms", Label: "p99 ms", Lower: true},
			{Key: "errors", Label: "errors", Lower: true},
		},
		ratios: []report.Ratio{
			{Metric: "rps", Num: wactorC + " (1 actor)", Den: netHTTP},
			{Metric: "rps", Num: wactorC + " (100 actors)", Den: netHTTP},
			{Metric: "rps", Num: wactorGo + " (1 actor)", Den: netHTTP},
			{Metric: "rps", Num: wactorGo + " (100 actors)", Den: netHTTP},
			{Metric: "rps", Num: wactorC + " (100 actors)", Den: wactorC + " (1 actor)"},
			{Metric: "rps", Num: wactorGo + " (100 actors)", Den: wactorGo + " (1 actor)"},
			{Metric: "cpu_us", Num: wactorC + " (1 actor)", Den: netHTTP},
			{Metric: "rps", Num: oneWorker, Den: netHTTP},
			{Metric: "cpu_us", Num: oneWorker, Den: netHTTP},
			{Metric: "rps", Num: wactorC + " (1 actor)", Den: oneWorker},
		},
		systems: func(e *env) ([]system, error) {
			if e.wrkErr != nil {
				return nil, e.wrkErr
			}
			z := e.sz
			shape := func(what string) string {
				return fmt.Sprintf("%s, %d connections, %v", what, z.httpConns, z.httpDur)
			}
			sp := func(actors int) spec {
				return spec{Measure: "http/wactor", N: actors, Conns: z.httpConns, Dur: z.httpDur, Wrk: e.wrk}
			}
			return []system{
				e.child(netHTTP, shape("constant reply"), spec{Measure: "http/ceiling", N: 1, Conns: z.httpConns, Dur: z.httpDur, Wrk: e.wrk}),
				e.child(oneWorker, shape("constant reply from one goroutine"), spec{Measure: "http/oneworker", N: 1, Conns: z.httpConns, Dur: z.httpDur, Wrk: e.wrk}),
				e.wactor(wactorC+" (1 actor)", shape("counter add"), "counter-c", sp(1)),
				e.wactor(wactorC+" (100 actors)", shape("counter add"), "counter-c", sp(100)),
				e.wactor(wactorGo+" (1 actor)", shape("counter add"), "counter-go", sp(1)),
				e.wactor(wactorGo+" (100 actors)", shape("counter add"), "counter-go", sp(100)),
			}, nil
		},
	},
	{
		name:  "durable",
		title: "state-changing asks on disk",
		desc: "64 concurrent callers, each on its own counter, ask add for a fixed time against " +
			"badgerstore with Sync and group commit: every reply waits for its turn's commit to be " +
			"fsynced. The (1 actor) row has 200 callers on one counter, whose turns run one at a " +
			"time: they share fsyncs because the counter runs its next turns while earlier commits " +
			"are in flight (pipelining behind an output gate). The (1 actor, unpipelined) row is the same " +
			"with pipelining off (host.Config.NoPipelining): each turn waits for its own commit before " +
			"the next runs, as before pipelining. The baselines write the same entries (state value and version, with " +
			"badgerstore's keys) straight to badger with SyncWrites from 64 goroutines: grouped, " +
			"one committer writes all the turns waiting (up to 1,024) in one transaction and one " +
			"fsync, as badgerstore does, with nothing else around it; txn per turn, each goroutine " +
			"commits its own transaction and badger's write pipeline shares fsyncs among the " +
			"commits that arrive together.",
		metrics: []report.Metric{{Key: "per_s", Label: "durable turns/s"}},
		ratios: []report.Ratio{
			{Metric: "per_s", Num: wactorC, Den: badgerGrouped},
			{Metric: "per_s", Num: hotActor, Den: badgerGrouped},
			{Metric: "per_s", Num: hotActor, Den: hotUnpiped},
			{Metric: "per_s", Num: wactorGo, Den: badgerGrouped},
			{Metric: "per_s", Num: wactorC, Den: badgerTxn},
		},
		systems: func(e *env) ([]system, error) {
			z := e.sz
			shape := fmt.Sprintf("%d callers, %v", z.durCallers, z.durDur)
			sp := spec{Measure: "durable/wactor", Callers: z.durCallers, Dur: z.durDur}
			return []system{
				e.wactor(wactorC, shape+", asks", "counter-c", sp),
				e.wactor(wactorGo, shape+", asks", "counter-go", sp),
				e.wactor(hotActor, fmt.Sprintf("%d callers on one counter, %v, asks", z.durHotCallers, z.durDur), "counter-c",
					spec{Measure: "durable/wactor", N: 1, Callers: z.durHotCallers, Dur: z.durDur}),
				e.wactor(hotUnpiped, fmt.Sprintf("%d callers on one counter, %v, asks", z.durHotCallers, z.durDur), "counter-c",
					spec{Measure: "durable/wactor", N: 1, Callers: z.durHotCallers, Dur: z.durDur, NoPipe: true}),
				e.child(badgerGrouped, shape+", one txn per group", spec{Measure: "durable/badger-grouped", Callers: z.durCallers, Dur: z.durDur}),
				e.child(badgerTxn, shape+", one txn per turn", spec{Measure: "durable/badger", Callers: z.durCallers, Dur: z.durDur}),
			}, nil
		},
	},
	{
		name:  "cluster",
		title: "durable asks over HTTP: a 3-node cluster against one node on badger",
		desc: "Real `wactor run` processes on 127.0.0.1 with the C counter, driven over HTTP: one node on " +
			"badger with Sync (every reply after its turn's fsync), and a cluster of three nodes, each " +
			"embedding a NATS server, the actors in one JetStream stream kept in three copies (R3: every " +
			"reply after its turn's atomic batch is stored on a majority of the three servers). C callers, " +
			"each on its own counter, ask add for a fixed time: durable turns per second. Each call goes " +
			"through the gateway of the counter's preferred owner (rendezvous hashing over the node names), " +
			"or, in the \"another gateway\" row, of the next node, which forwards it to the owner. Then one " +
			"counter is asked S times, one at a time, through the same gateway, each timed: p50 and p99 of " +
			"an ask through the owner's node and through another node. Last, the resident memory (VmRSS) " +
			"of each process after the load: the mean per node and the largest.",
		metrics: []report.Metric{
			{Key: "per_s", Label: "durable turns/s"},
			{Key: "p50_us", Label: "p50 µs (HTTP ask)", Lower: true},
			{Key: "p99_us", Label: "p99 µs (HTTP ask)", Lower: true},
			{Key: "rss_mib", Label: "RSS MiB per node", Lower: true},
			{Key: "max_rss_mib", Label: "largest RSS MiB", Lower: true},
		},
		ratios: []report.Ratio{
			{Metric: "per_s", Num: clusterOwner, Den: singleNode},
			{Metric: "per_s", Num: clusterCross, Den: clusterOwner},
			{Metric: "p50_us", Num: clusterCross, Den: clusterOwner},
			{Metric: "p99_us", Num: clusterCross, Den: clusterOwner},
			{Metric: "rss_mib", Num: clusterOwner, Den: singleNode},
		},
		systems: func(e *env) ([]system, error) {
			z := e.sz
			shape := fmt.Sprintf("%d callers, %v; %s sequential asks", z.clusterCallers, z.clusterDur, n(z.clusterSamples))
			sp := func(nodes int, cross bool) spec {
				return spec{Measure: "cluster/wactor", N: nodes, Cross: cross, Callers: z.clusterCallers,
					Dur: z.clusterDur, Samples: z.clusterSamples, Wactor: e.wactorBinaryPath()}
			}
			return []system{
				e.withWactor(e.wactor(singleNode, shape, "counter-c", sp(1, false))),
				e.withWactor(e.wactor(clusterOwner, shape, "counter-c", sp(3, false))),
				e.withWactor(e.wactor(clusterCross, shape, "counter-c", sp(3, true))),
			}, nil
		},
	},
}

// fsType returns the type of the file system holding path, from
// /proc/mounts.
func fsType(path string) string {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "unknown"
	}
	best, typ := "", "unknown"
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mnt := f[1]
		if (path == mnt || strings.HasPrefix(path, strings.TrimSuffix(mnt, "/")+"/")) && len(mnt) > len(best) {
			best, typ = mnt, f[2]+" on "+f[0]
		}
	}
	return typ
}

// languages are the guest languages of the activation scenario.
var languages = []string{"c", "rust", "as", "go"}

// activationRatios set each language's activation against raw wazero's,
// against raw wazero's with wactor_handle looked up, and against raw
// wazero's with a function called once.
func activationRatios() []report.Ratio {
	var rs []report.Ratio
	for _, m := range []string{"per_s", "cpu_us", "kib_per"} {
		for _, lang := range languages {
			rs = append(rs, report.Ratio{Metric: m, Num: "wactor-" + lang, Den: "wazero-" + lang})
		}
	}
	for _, floor := range []string{"wazero+export-", "wazero+call-"} {
		for _, m := range []string{"per_s", "cpu_us"} {
			for _, lang := range languages {
				if lang != "go" {
					rs = append(rs, report.Ratio{Metric: m, Num: "wactor-" + lang, Den: floor + lang})
				}
			}
		}
	}
	return rs
}
