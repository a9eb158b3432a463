package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"
)

// spec is one measurement, run in a child process of its own so that every
// figure starts from a fresh heap (and resident memory is the measured
// system's alone). The parent passes it as JSON with -child.
type spec struct {
	Measure string `json:"measure"` // a key of measures, e.g. "ring/wactor"

	Guest   string `json:"guest,omitempty"`    // path of the .wasm module (wactor)
	GoGuest bool   `json:"go_guest,omitempty"` // the module is a standard-Go guest
	Cache   string `json:"cache,omitempty"`    // wazero compilation cache directory
	WorkDir string `json:"work_dir,omitempty"` // scratch space (badger directories, scripts)

	N       int           `json:"n,omitempty"`       // actors
	K       int           `json:"k,omitempty"`       // messages per actor, asks, iterations
	Laps    int           `json:"laps,omitempty"`    // ring laps
	Samples int           `json:"samples,omitempty"` // latency samples
	Callers int           `json:"callers,omitempty"` // concurrent callers
	Dur     time.Duration `json:"dur,omitempty"`     // for time-bounded measurements
	Conns   int           `json:"conns,omitempty"`   // HTTP connections
	Wrk     string        `json:"wrk,omitempty"`     // path of wrk
	Checks  bool          `json:"checks,omitempty"`  // wazero close-on-context-done checks
	Budget  bool          `json:"budget,omitempty"`  // wactor: the default guest memory budget, not none
	NoPipe  bool          `json:"no_pipe,omitempty"` // wactor: host.Config.NoPipelining
	NoSnap  bool          `json:"no_snap,omitempty"` // wactor: host.Config.NoSnapshots
	Wactor  string        `json:"wactor,omitempty"`  // path of the wactor binary (cluster)
	Cross   bool          `json:"cross,omitempty"`   // cluster: call through a gateway other than the owner's
}

// result is what a measurement reports: metric key -> value.
type result map[string]float64

// measures are the measurements a child can run.
var measures = map[string]func(context.Context, *spec) (result, error){}

// resultPrefix starts the line in which a child (or an Erlang program)
// reports its figures: "RESULT key=value key=value".
const resultPrefix = "RESULT "

func (r result) line() string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(resultPrefix)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + strconv.FormatFloat(r[k], 'g', -1, 64))
	}
	return b.String()
}

// parseResult finds the last RESULT line of out and reads its figures.
func parseResult(out []byte) (result, error) {
	var last string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, resultPrefix) {
			last = line
		}
	}
	if last == "" {
		return nil, errors.New("no " + strings.TrimSpace(resultPrefix) + " line in the output")
	}
	r := result{}
	for _, f := range strings.Fields(strings.TrimPrefix(last, resultPrefix)) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("bad field %q in %q", f, last)
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("bad value of %s in %q: %v", k, last, err)
		}
		r[k] = x
	}
	return r, nil
}

// runChild runs sp in a child process (this same binary with -child) and
// returns its figures.
func runChild(ctx context.Context, sp *spec, timeout time.Duration) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(sp)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-child", string(js))
	cmd.WaitDelay = 5 * time.Second
	return runAndParse(ctx, cmd, timeout)
}

// runAndParse runs cmd and parses the RESULT line of its standard output;
// on failure the error carries the tail of its standard error.
func runAndParse(ctx context.Context, cmd *exec.Cmd, timeout time.Duration) (result, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("gave up after %v", timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, tail(stderr.String()+stdout.String(), 400))
	}
	r, err := parseResult(stdout.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, tail(stderr.String()+stdout.String(), 400))
	}
	return r, nil
}

// tail returns the last n bytes of s, on one line.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return strings.Join(strings.Fields(s), " ")
}

// childMain runs the measurement described by the JSON js and prints its
// RESULT line on w.
func childMain(js, cpuProfile, memProfile string, w io.Writer) error {
	var sp spec
	if err := json.Unmarshal([]byte(js), &sp); err != nil {
		return fmt.Errorf("reading -child: %w", err)
	}
	m, ok := measures[sp.Measure]
	if !ok {
		return fmt.Errorf("no measurement %q", sp.Measure)
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	r, err := m(context.Background(), &sp)
	if err != nil {
		return fmt.Errorf("%s: %w", sp.Measure, err)
	}
	if memProfile != "" {
		// Every allocation since the start (the profile's alloc_*
		// samples): go tool pprof -sample_index=alloc_objects.
		f, err := os.Create(memProfile)
		if err != nil {
			return fmt.Errorf("-memprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return fmt.Errorf("-memprofile: %w", err)
		}
	}
	_, err = fmt.Fprintln(w, r.line())
	return err
}
