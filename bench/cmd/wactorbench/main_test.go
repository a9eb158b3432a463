package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestResultLineRoundTrip(t *testing.T) {
	r := result{"msgs_per_s": 12345.678, "p99_us": 0.5}
	out := []byte("noise\n" + r.line() + "\nmore noise\n")
	got, err := parseResult(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["msgs_per_s"] != 12345.678 || got["p99_us"] != 0.5 {
		t.Errorf("parseResult = %v, want %v", got, r)
	}
}

func TestParseResult(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      result
		bad       bool
	}{
		{name: "erlang style", out: "RESULT per_s=92286.960397 kib_per=2.698640\n", want: result{"per_s": 92286.960397, "kib_per": 2.69864}},
		{name: "last line wins", out: "RESULT a=1\nRESULT a=2\n", want: result{"a": 2}},
		{name: "none", out: "crash\n", bad: true},
		{name: "bad value", out: "RESULT a=x\n", bad: true},
		{name: "bad field", out: "RESULT a\n", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseResult([]byte(tc.out))
			if tc.bad {
				if err == nil {
					t.Errorf("parseResult(%q) = %v, want an error", tc.out, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

const wrkOutput = `Running 4s test @ http://127.0.0.1:40123
  2 threads and 200 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.12ms    4.56ms 120.00ms   80.00%
    Req/Sec    11.00k     1.00k   13.00k    70.00%
  Latency Distribution
     50%    8.50ms
     75%   10.00ms
     90%   14.00ms
     99%  812.00us
  88000 requests in 4.00s, 12.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  22000.50
Transfer/sec:      3.00MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := result{"rps": 22000.5, "p50_ms": 8.5, "p99_ms": 0.812, "errors": 12}
	for k, v := range want {
		if d := r[k] - v; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s = %v, want %v", k, r[k], v)
		}
	}
	if _, err := parseWrk("Running 1s test\n"); err == nil {
		t.Error("parseWrk of an empty report: no error")
	}
}

func TestWrkDuration(t *testing.T) {
	for in, want := range map[string]float64{"812.00us": 812, "1.50ms": 1500, "2.00s": 2e6, "1.00m": 60e6} {
		if got, err := wrkDuration(in); err != nil || got != want {
			t.Errorf("wrkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := wrkDuration("12parsecs"); err == nil {
		t.Error("wrkDuration of nonsense: no error")
	}
}

func TestCBORHelpers(t *testing.T) {
	p := cborMap("peer", "pingpong/b", "count", 1000, "h", -1)
	for key, want := range map[string]int64{"count": 1000, "h": -1} {
		if got, err := mapInt(p, key); err != nil || got != want {
			t.Errorf("mapInt(%s) = %d, %v; want %d", key, got, err, want)
		}
	}
	if _, err := mapInt(p, "missing"); err == nil {
		t.Error("mapInt of a missing key: no error")
	}
	if _, err := mapInt(p, "peer"); err == nil {
		t.Error("mapInt of a text: no error")
	}
}

// The hand-written floor modules are valid WebAssembly and do what their
// text says.
func TestFloorModules(t *testing.T) {
	for _, checks := range []bool{false, true} {
		r, err := floorWazero(context.Background(), &spec{Dur: time.Millisecond, Checks: checks})
		if err != nil {
			t.Fatal(err)
		}
		if r["export_ns"] <= 0 || r["import_ns"] <= 0 {
			t.Errorf("checks=%t: %v", checks, r)
		}
	}
}

func TestSelectScenarios(t *testing.T) {
	all, err := selectScenarios("")
	if err != nil || len(all) != len(scenarios) {
		t.Fatalf("selectScenarios(\"\") = %d scenarios, %v", len(all), err)
	}
	two, err := selectScenarios("ring, http")
	if err != nil || len(two) != 2 || two[0].name != "ring" || two[1].name != "http" {
		t.Fatalf("selectScenarios(ring, http) = %v, %v", two, err)
	}
	if _, err := selectScenarios("ring,nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("selectScenarios(nope): %v", err)
	}
	for _, s := range scenarios {
		if s.name == "" || s.title == "" || s.desc == "" || len(s.metrics) == 0 {
			t.Errorf("scenario %q lacks a name, title, description or metric", s.name)
		}
		keys := map[string]bool{}
		for _, m := range s.metrics {
			keys[m.Key] = true
		}
		for _, r := range s.ratios {
			if !keys[r.Metric] {
				t.Errorf("scenario %s: ratio %s/%s of unknown metric %q", s.name, r.Num, r.Den, r.Metric)
			}
		}
	}
}

// Every ratio names rows the scenario has, so no ratio is silently empty.
func TestRatiosNameRows(t *testing.T) {
	e := &env{sz: fullSizes, guests: guestSet{}, wrk: "wrk"}
	for _, s := range scenarios {
		systems, err := s.systems(e)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		rows := map[string]bool{}
		for _, sys := range systems {
			rows[sys.name] = true
		}
		for _, r := range s.ratios {
			if !rows[r.Num] || !rows[r.Den] {
				t.Errorf("scenario %s: ratio %s / %s names a row it does not have", s.name, r.Num, r.Den)
			}
		}
	}
}

func TestFindRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := findRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	if !isFile(filepath.Join(root, "bench", "go.mod")) {
		t.Errorf("findRoot = %s, which has no bench/go.mod", root)
	}
	if _, err := findRoot(t.TempDir()); err == nil {
		t.Error("findRoot outside the repository: no error")
	}
}

// The Erlang peers compile (when erlc is installed).
func TestErlangSourcesCompile(t *testing.T) {
	if _, err := exec.LookPath("erlc"); err != nil {
		t.Skip("erlc not installed (apt-get install -y erlang-base)")
	}
	wd, _ := os.Getwd()
	root, err := findRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := filepath.Glob(filepath.Join(root, "bench", "erlang", "*.erl"))
	if len(srcs) != 3 {
		t.Fatalf("bench/erlang has %d .erl files, want 3", len(srcs))
	}
	out, err := exec.Command("erlc", append([]string{"-Werror", "-o", t.TempDir()}, srcs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("erlc: %v\n%s", err, out)
	}
}
