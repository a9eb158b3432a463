// Command wactorbench runs wactor's benchmark suite and its peers
// (protoactor-go, Erlang/OTP, raw wazero, raw badger, bare net/http) in the
// same run, and writes a markdown table of medians and ratios to
// bench/results/<date>.md. See bench/README.md.
//
//	go run ./cmd/wactorbench                    # every scenario, ~10 minutes
//	go run ./cmd/wactorbench -quick             # smaller shapes, ~2 minutes
//	go run ./cmd/wactorbench -scenario ring     # one scenario (or a list: ring,http)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wactor/wactor/bench/internal/report"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wactorbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		scenarioFlag = fs.String("scenario", "", "comma-separated scenarios to run (default all): "+strings.Join(scenarioNames(), ", "))
		quick        = fs.Bool("quick", false, "smaller shapes and shorter runs, for a smoke run of a minute or two")
		runs         = fs.Int("runs", 3, "runs per figure; each figure is the median (at least 3)")
		out          = fs.String("out", "", "the markdown file to write (default <root>/bench/results/<date>[-<scenarios>][-quick].md; - for none)")
		rootFlag     = fs.String("root", "", "the wactor repository (default: found from the working directory)")
		list         = fs.Bool("list", false, "list the scenarios and exit")
		child        = fs.String("child", "", "internal: run one measurement, given as JSON, and print its RESULT line")
		cpuProfile   = fs.String("cpuprofile", "", "with -child: write the measurement's CPU profile (set-up included) to this file")
		memProfile   = fs.String("memprofile", "", "with -child: write the measurement's allocation profile (set-up included) to this file")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *child != "" {
		if err := childMain(*child, *cpuProfile, *memProfile, stdout); err != nil {
			fmt.Fprintln(stderr, "wactorbench:", err)
			return 1
		}
		return 0
	}
	if *list {
		for _, s := range scenarios {
			fmt.Fprintf(stdout, "%-10s %s\n", s.name, s.title)
		}
		return 0
	}
	if *runs < 3 {
		fmt.Fprintln(stderr, "wactorbench: -runs must be at least 3: each figure is a median")
		return 2
	}
	selected, err := selectScenarios(*scenarioFlag)
	if err != nil {
		fmt.Fprintln(stderr, "wactorbench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	start := time.Now()
	e, err := setup(ctx, *rootFlag, *quick, logf)
	if err != nil {
		fmt.Fprintln(stderr, "wactorbench:", err)
		return 1
	}
	defer os.RemoveAll(e.work)

	rep := &report.Report{
		Title:   "wactor benchmark suite, " + time.Now().Format("2006-01-02 15:04"),
		Command: strings.TrimSpace("go run ./cmd/wactorbench " + strings.Join(args, " ")),
		Machine: e.machine(ctx),
		Runs:    *runs,
	}
	if busy() {
		rep.Notes = append(rep.Notes, "**Busy machine:** the load average was above the number of cores when the run "+
			"started: other work shared the CPUs, so the figures are slower and noisier than on an idle machine. "+
			"The run-by-run ratios suffer less than the figures.")
	}
	if *quick {
		rep.Notes = append(rep.Notes, "**Quick mode:** smaller shapes and shorter runs than the full suite; "+
			"figures are noisier and, for shapes that amortise set-up, lower.")
	}
	for _, def := range selected {
		if ctx.Err() != nil {
			break
		}
		rep.Scenarios = append(rep.Scenarios, runScenario(ctx, e, def, *runs, logf))
	}
	if ctx.Err() != nil {
		rep.Notes = append(rep.Notes, "**Interrupted:** the run was stopped before every scenario finished.")
	}
	rep.Footer = append(rep.Footer, fmt.Sprintf("The whole run took %v; the load average (1, 5, 15 minutes) at its end was %s.",
		time.Since(start).Round(time.Second), report.LoadAverage()))
	md := rep.Markdown()
	fmt.Fprint(stdout, md)
	if *out != "-" {
		path := *out
		if path == "" {
			path = defaultOut(e.root, *scenarioFlag, *quick)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintln(stderr, "wactorbench:", err)
			return 1
		}
		if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
			fmt.Fprintln(stderr, "wactorbench:", err)
			return 1
		}
		logf("wrote %s", path)
	}
	return 0
}

// busy reports whether the 1-minute load average exceeds the core count.
func busy() bool {
	f := strings.Fields(report.LoadAverage())
	if len(f) == 0 {
		return false
	}
	load, err := strconv.ParseFloat(f[0], 64)
	return err == nil && load > float64(runtime.NumCPU())
}

func scenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return names
}

func selectScenarios(list string) ([]*scenarioDef, error) {
	if strings.TrimSpace(list) == "" {
		return scenarios, nil
	}
	var out []*scenarioDef
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(scenarios, func(s *scenarioDef) bool { return s.name == name })
		if i < 0 {
			return nil, fmt.Errorf("no scenario %q; there are %s", name, strings.Join(scenarioNames(), ", "))
		}
		out = append(out, scenarios[i])
	}
	return out, nil
}

func defaultOut(root, scenarioList string, quick bool) string {
	name := time.Now().Format("2006-01-02")
	if s := strings.TrimSpace(scenarioList); s != "" {
		name += "-" + strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), ",", "+")
	}
	if quick {
		name += "-quick"
	}
	return filepath.Join(root, "bench", "results", name+".md")
}

// env is what the scenarios run with.
type env struct {
	root   string
	work   string // scratch, removed at the end
	cache  string // wazero compilation cache, kept between runs
	quick  bool
	sz     sizes
	guests guestSet
	erl    erlangEnv
	wrk    string
	wrkErr error
	wactorOnceState
}

func setup(ctx context.Context, rootFlag string, quick bool, logf func(string, ...any)) (*env, error) {
	root := rootFlag
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if root, err = findRoot(wd); err != nil {
			return nil, err
		}
	}
	work, err := os.MkdirTemp("", "wactorbench-")
	if err != nil {
		return nil, err
	}
	e := &env{
		root:  root,
		work:  work,
		cache: filepath.Join(os.TempDir(), "wactorbench-compile-cache"),
		quick: quick,
		sz:    fullSizes,
	}
	if quick {
		e.sz = quickSizes
	}
	if err := os.MkdirAll(e.cache, 0o755); err != nil {
		return nil, err
	}
	for _, d := range []string{"guests", "erlang"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			return nil, err
		}
	}
	logf("building the guests")
	e.guests = buildGuests(ctx, root, filepath.Join(work, "guests"), logf)
	for name, g := range e.guests {
		if g.Err != nil {
			logf("guest %s: %v", name, g.Err)
		}
	}
	e.erl = buildErlang(ctx, root, filepath.Join(work, "erlang"))
	if e.erl.Err != nil {
		logf("erlang: %v", e.erl.Err)
	}
	if e.wrk, e.wrkErr = lookWrk(); e.wrkErr != nil {
		logf("http: %v", e.wrkErr)
	}
	return e, nil
}

func lookWrk() (string, error) {
	p, err := execLookPath("wrk")
	if err != nil {
		return "", errors.New("wrk not found: apt-get install -y wrk")
	}
	return p, nil
}

// machine describes the machine and every tool the run used.
func (e *env) machine(ctx context.Context) []report.KV {
	kvs := report.Machine("github.com/tetratelabs/wazero", "github.com/asynkron/protoactor-go", "github.com/dgraph-io/badger/v4")
	if st, err := os.Stat(e.work); err == nil && st.IsDir() {
		kvs = append(kvs, report.KV{Key: "scratch dir (badger)", Value: e.work + " (" + fsType(e.work) + ")"})
	}
	erl := e.erl.Release
	if e.erl.Err != nil {
		erl = "not available: " + e.erl.Err.Error()
	}
	kvs = append(kvs, report.KV{Key: "Erlang/OTP", Value: erl})
	wrk := toolVersion(ctx, "wrk", "-v")
	if e.wrkErr != nil {
		wrk = "not available: " + e.wrkErr.Error()
	}
	kvs = append(kvs, report.KV{Key: "wrk", Value: wrk})
	if v := toolVersion(ctx, "clang", "--version"); v != "" {
		kvs = append(kvs, report.KV{Key: "clang (C guests)", Value: v})
	}
	if v := toolVersion(ctx, "git", "-C", e.root, "describe", "--always", "--dirty"); v != "" {
		kvs = append(kvs, report.KV{Key: "wactor commit", Value: v})
	}
	return kvs
}

// runScenario runs every system of def runs times, interleaved (run 1 of
// each system, then run 2 of each, ...) so that the ratios of a run
// compare figures taken close together.
func runScenario(ctx context.Context, e *env, def *scenarioDef, runs int, logf func(string, ...any)) *report.Scenario {
	sc := &report.Scenario{Name: def.name, Title: def.title, Description: def.desc, Metrics: def.metrics, Ratios: def.ratios}
	systems, err := def.systems(e)
	if err != nil {
		sc.Err = err.Error()
		logf("[%s] not run: %v", def.name, err)
		return sc
	}
	rows := make([]*report.Row, len(systems))
	for i, s := range systems {
		rows[i] = &report.Row{System: s.name, Shape: s.shape}
		if s.err != nil {
			rows[i].Err = s.err.Error()
		}
	}
	sc.Rows = rows
	for run := range runs {
		for i, s := range systems {
			row := rows[i]
			if row.Err != "" || ctx.Err() != nil {
				continue
			}
			start := time.Now()
			res, err := s.measure(ctx)
			if err != nil {
				row.Err = fmt.Sprintf("run %d failed: %v", run+1, err)
				logf("[%s] run %d/%d %s: %v", def.name, run+1, runs, s.name, err)
				continue
			}
			var figs []string
			for _, m := range def.metrics {
				if v, ok := res[m.Key]; ok {
					row.Set(m.Key, run, v)
					figs = append(figs, report.FormatValue(v)+" "+m.Label)
				}
			}
			logf("[%s] run %d/%d %s: %s (%v)", def.name, run+1, runs, s.name, strings.Join(figs, ", "), time.Since(start).Round(time.Millisecond))
		}
	}
	return sc
}
