package report

import (
	"math"
	"strings"
	"testing"
)

var nan = math.NaN()

func same(a, b float64) bool {
	return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) < 1e-9
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want float64
	}{
		{"empty", nil, nan},
		{"one", []float64{3}, 3},
		{"odd", []float64{5, 1, 3}, 3},
		{"even", []float64{4, 1, 3, 2}, 2.5},
		{"skips NaN", []float64{nan, 7, 1, nan, 4}, 4},
		{"all NaN", []float64{nan, nan}, nan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Median(tc.in); !same(got, tc.want) {
				t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestMedianLeavesInputAlone(t *testing.T) {
	in := []float64{3, 1, 2}
	Median(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("Median sorted its input: %v", in)
	}
}

func TestPercentile(t *testing.T) {
	sorted := make([]float64, 100)
	for i := range sorted {
		sorted[i] = float64(i + 1)
	}
	for _, tc := range []struct {
		p    float64
		want float64
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}, {0.1, 1}} {
		if got := Percentile(sorted, tc.p); got != tc.want {
			t.Errorf("Percentile(1..100, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := Percentile([]float64{42}, 99); got != 42 {
		t.Errorf("Percentile of one value = %v, want 42", got)
	}
	if got := Percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("Percentile(nil) = %v, want NaN", got)
	}
}

func TestPairRatios(t *testing.T) {
	num := []float64{10, 20, nan, 40, 50}
	den := []float64{100, 100, 100, 0, 100, 100}
	got := PairRatios(num, den)
	want := []float64{0.1, 0.2, 0.5} // run 3 has no num, run 4 a zero den, run 6 no num
	if len(got) != len(want) {
		t.Fatalf("PairRatios = %v, want %v", got, want)
	}
	for i := range want {
		if !same(got[i], want[i]) {
			t.Errorf("PairRatios[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

// The ratio is the median of per-run ratios, not the ratio of medians:
// here they differ.
func TestRatioValueIsPerRun(t *testing.T) {
	sc := &Scenario{
		Metrics: []Metric{{Key: "x", Label: "x/s"}},
		Rows: []*Row{
			{System: "a", Values: map[string][]float64{"x": {1, 10, 100}}},
			{System: "b", Values: map[string][]float64{"x": {2, 100, 50}}},
		},
	}
	got, n := sc.RatioValue(Ratio{Metric: "x", Num: "a", Den: "b"})
	if n != 3 || !same(got, 0.5) { // ratios 0.5, 0.1, 2
		t.Errorf("RatioValue = %v from %d runs, want 0.5 from 3", got, n)
	}
	if byMedians := Median([]float64{1, 10, 100}) / Median([]float64{2, 100, 50}); same(got, byMedians) {
		t.Fatalf("test is not telling: both ways give %v", got)
	}
	sc.Rows[1].Err = "did not build"
	if got, n := sc.RatioValue(Ratio{Metric: "x", Num: "a", Den: "b"}); n != 0 || !math.IsNaN(got) {
		t.Errorf("RatioValue with a failed row = %v from %d runs, want NaN from 0", got, n)
	}
}

func TestRowSet(t *testing.T) {
	var r Row
	r.Set("x", 2, 5)
	r.Set("x", 0, 1)
	got := r.Values["x"]
	if len(got) != 3 || got[0] != 1 || !math.IsNaN(got[1]) || got[2] != 5 {
		t.Errorf("Values = %v, want [1 NaN 5]", got)
	}
}

func TestSpread(t *testing.T) {
	if got := Spread([]float64{90, 100, 110}); !same(got, 0.1) {
		t.Errorf("Spread = %v, want 0.1", got)
	}
	if got := Spread([]float64{nan}); !math.IsNaN(got) {
		t.Errorf("Spread of nothing = %v, want NaN", got)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{nan, "–"},
		{0, "0"},
		{1234567.4, "1,234,567"},
		{-1234.5, "-1,235"},
		{999.4, "999"},
		{123.4, "123"},
		{12.34, "12.3"},
		{1.234, "1.23"},
		{0.01234, "0.0123"},
	} {
		if got := FormatValue(tc.in); got != tc.want {
			t.Errorf("FormatValue(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := FormatCount(10000); got != "10,000" {
		t.Errorf("FormatCount(10000) = %q", got)
	}
}

func TestReadsAs(t *testing.T) {
	r := Ratio{Metric: "m", Num: "wactor-c", Den: "protoactor"}
	for _, tc := range []struct {
		m    Metric
		v    float64
		want string
	}{
		{Metric{Label: "msgs/s"}, 0.12, "wactor-c does 12% of protoactor's msgs/s"},
		{Metric{Label: "msgs/s"}, 2.5, "wactor-c does 2.50x protoactor's msgs/s"},
		{Metric{Label: "p50 µs", Lower: true}, 3, "wactor-c's p50 µs is 3.00x protoactor's"},
		{Metric{Label: "KiB", Lower: true}, 0.5, "wactor-c's KiB is 50% of protoactor's"},
	} {
		if got := ReadsAs(r, tc.m, tc.v); got != tc.want {
			t.Errorf("ReadsAs(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	rep := &Report{
		Title:   "suite",
		Machine: []KV{{"CPU", "a | b"}},
		Runs:    3,
		Scenarios: []*Scenario{
			{
				Name: "ring", Title: "token ring",
				Metrics: []Metric{{Key: "msgs_per_s", Label: "msgs/s"}},
				Rows: []*Row{
					{System: "wactor-c", Shape: "10 actors", Values: map[string][]float64{"msgs_per_s": {100, 120, 110}}},
					{System: "protoactor", Shape: "10 actors", Values: map[string][]float64{"msgs_per_s": {1000, 1000, 1000}}},
					{System: "erlang", Shape: "10 actors", Err: "erl not found"},
				},
				Ratios: []Ratio{
					{Metric: "msgs_per_s", Num: "wactor-c", Den: "protoactor"},
					{Metric: "msgs_per_s", Num: "wactor-c", Den: "erlang"},
				},
			},
			{Name: "http", Title: "gateway", Err: "wrk not found"},
		},
		Footer: []string{"done"},
	}
	md := rep.Markdown()
	for _, want := range []string{
		"# suite",
		`| CPU | a \| b |`,
		"median of 3 runs",
		"## ring: token ring",
		"| system | shape | msgs/s |",
		"| wactor-c | 10 actors | 110 (±9%) |",
		"| protoactor | 10 actors | 1,000 (±0%) |",
		"| erlang | 10 actors | **not run:** erl not found |",
		"| wactor-c / protoactor | msgs/s | 0.11 | wactor-c does 11% of protoactor's msgs/s |",
		"| wactor-c / erlang | msgs/s | – | no run had both figures |",
		"**Not run:** wrk not found",
		"## All ratios",
		"| ring | wactor-c / protoactor | msgs/s | 0.11 |",
		"\ndone\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	got, err := ParseVmRSS("Name:\tx\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nThreads: 3\n")
	if err != nil || got != 12345 {
		t.Errorf("ParseVmRSS = %d, %v; want 12345", got, err)
	}
	if _, err := ParseVmRSS("Name: x\n"); err == nil {
		t.Error("ParseVmRSS without VmRSS: no error")
	}
}
