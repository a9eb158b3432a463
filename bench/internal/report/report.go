// Package report holds the figures of a benchmark run and renders them as
// markdown: medians of repeated runs, ratios computed run by run, and the
// machine the run happened on.
package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Metric is one column of a scenario's table.
type Metric struct {
	Key   string // the name measurements report it under, e.g. "msgs_per_s"
	Label string // the column heading, e.g. "msgs/s"
	// Lower says smaller is better (latency, memory); it only changes the
	// wording of ratios.
	Lower bool
}

// Row is one system measured in a scenario.
type Row struct {
	System string // e.g. "wactor-c", "protoactor", "erlang"
	Shape  string // what exactly ran, e.g. "10,000 actors × 10 laps"
	// Err says why the system did not run (or stopped running); the row
	// is shown with it instead of figures.
	Err string
	// Values holds, per metric key, one value per run; index i is run i
	// and NaN marks a run without a value.
	Values map[string][]float64
}

// Set records value v of metric key for run i.
func (r *Row) Set(key string, run int, v float64) {
	if r.Values == nil {
		r.Values = map[string][]float64{}
	}
	vs := r.Values[key]
	for len(vs) <= run {
		vs = append(vs, math.NaN())
	}
	vs[run] = v
	r.Values[key] = vs
}

// Ratio names a ratio to compute: Num's metric over Den's, run by run.
type Ratio struct {
	Metric   string // a Metric.Key
	Num, Den string // systems
}

// Scenario is one table of the report.
type Scenario struct {
	Name        string // what -scenario selects, e.g. "ring"
	Title       string
	Description string
	Metrics     []Metric
	Rows        []*Row
	Ratios      []Ratio
	// Err says why the whole scenario did not run.
	Err string
}

// Row returns the row of system, nil if there is none.
func (s *Scenario) Row(system string) *Row {
	for _, r := range s.Rows {
		if r.System == system {
			return r
		}
	}
	return nil
}

func (s *Scenario) metric(key string) Metric {
	for _, m := range s.Metrics {
		if m.Key == key {
			return m
		}
	}
	return Metric{Key: key, Label: key}
}

// Median returns the median of the values that are not NaN, NaN if there
// are none. With an even count it is the mean of the middle two.
func Median(values []float64) float64 {
	vs := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return math.NaN()
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted, by the
// nearest-rank method; NaN when sorted is empty.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// PairRatios divides num[i] by den[i] for every run i where both have a
// value (and den[i] is not 0): each ratio compares two figures measured in
// the same run, so slow drift of the machine cancels out.
func PairRatios(num, den []float64) []float64 {
	var out []float64
	for i := 0; i < len(num) && i < len(den); i++ {
		if math.IsNaN(num[i]) || math.IsNaN(den[i]) || den[i] == 0 {
			continue
		}
		out = append(out, num[i]/den[i])
	}
	return out
}

// RatioValue is the median of the per-run ratios of r in s, and how many
// runs it came from; NaN and 0 when the two systems never both had a value.
func (s *Scenario) RatioValue(r Ratio) (float64, int) {
	num, den := s.Row(r.Num), s.Row(r.Den)
	if num == nil || den == nil || num.Err != "" || den.Err != "" {
		return math.NaN(), 0
	}
	rs := PairRatios(num.Values[r.Metric], den.Values[r.Metric])
	return Median(rs), len(rs)
}

// Spread is half the range of the values that are not NaN, relative to
// their median: 0.04 means the runs were within ±4% of the median.
func Spread(values []float64) float64 {
	med := Median(values)
	if math.IsNaN(med) || med == 0 {
		return math.NaN()
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if !math.IsNaN(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return (hi - lo) / 2 / math.Abs(med)
}

// FormatValue prints v for a table: thousands separators for large
// values, three significant digits for small ones, "–" for NaN.
func FormatValue(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case math.Abs(v) >= 1000:
		return groupThousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// FormatCount prints an integer with thousands separators.
func FormatCount(n int) string { return groupThousands(strconv.Itoa(n)) }

func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}

// cell is a table cell of a metric's runs: the median and, when there
// were several runs, their spread.
func cell(values []float64) string {
	med := Median(values)
	if math.IsNaN(med) {
		return "–"
	}
	n := 0
	for _, v := range values {
		if !math.IsNaN(v) {
			n++
		}
	}
	s := FormatValue(med)
	if sp := Spread(values); n > 1 && !math.IsNaN(sp) {
		s += fmt.Sprintf(" (±%.0f%%)", sp*100)
	}
	return s
}

// escape keeps a cell's text from breaking the table.
func escape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// KV is one line of the machine description.
type KV struct{ Key, Value string }

// Report is a whole run.
type Report struct {
	Title     string
	Command   string // how the run was started
	Machine   []KV
	Runs      int // runs per figure
	Scenarios []*Scenario
	Notes     []string // shown before the scenarios
	Footer    []string // shown at the end
}

// Markdown renders the report.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	if r.Command != "" {
		fmt.Fprintf(&b, "`%s`\n\n", r.Command)
	}
	b.WriteString("| machine | |\n| --- | --- |\n")
	for _, kv := range r.Machine {
		fmt.Fprintf(&b, "| %s | %s |\n", escape(kv.Key), escape(kv.Value))
	}
	fmt.Fprintf(&b, "\nEach figure is the median of %d runs; (±x%%) is half the range of the runs around it. "+
		"Each ratio is the median of the ratios of the two systems' figures taken in the same run.\n", r.Runs)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	for _, s := range r.Scenarios {
		b.WriteString("\n")
		b.WriteString(s.Markdown())
	}
	if t := r.ratioSummary(); t != "" {
		b.WriteString("\n## All ratios\n\n")
		b.WriteString(t)
	}
	for _, n := range r.Footer {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	return b.String()
}

// Markdown renders one scenario: its table of systems and its ratios.
func (s *Scenario) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s: %s\n\n", s.Name, s.Title)
	if s.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", s.Description)
	}
	if s.Err != "" {
		fmt.Fprintf(&b, "**Not run:** %s\n", s.Err)
		return b.String()
	}
	b.WriteString("| system | shape |")
	for _, m := range s.Metrics {
		fmt.Fprintf(&b, " %s |", escape(m.Label))
	}
	b.WriteString("\n| --- | --- |")
	for range s.Metrics {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	for _, row := range s.Rows {
		fmt.Fprintf(&b, "| %s | %s |", escape(row.System), escape(row.Shape))
		if row.Err != "" {
			fmt.Fprintf(&b, " **not run:** %s |", escape(row.Err))
			for range len(s.Metrics) - 1 {
				b.WriteString(" |")
			}
			b.WriteString("\n")
			continue
		}
		for _, m := range s.Metrics {
			fmt.Fprintf(&b, " %s |", cell(row.Values[m.Key]))
		}
		b.WriteString("\n")
	}
	if t := s.ratioTable(false); t != "" {
		b.WriteString("\n")
		b.WriteString(t)
	}
	return b.String()
}

// ratioTable renders s's ratios; withScenario adds a scenario column.
func (s *Scenario) ratioTable(withScenario bool) string {
	if s.Err != "" || len(s.Ratios) == 0 {
		return ""
	}
	var b strings.Builder
	if !withScenario {
		b.WriteString("| ratio | of | value | reads as |\n| --- | --- | ---: | --- |\n")
	}
	for _, r := range s.Ratios {
		m := s.metric(r.Metric)
		v, n := s.RatioValue(r)
		val, reads := FormatRatio(v), "–"
		if n == 0 {
			val, reads = "–", "no run had both figures"
		} else {
			reads = ReadsAs(r, m, v)
		}
		if withScenario {
			fmt.Fprintf(&b, "| %s | %s / %s | %s | %s | %s |\n", s.Name, escape(r.Num), escape(r.Den), escape(m.Label), val, escape(reads))
		} else {
			fmt.Fprintf(&b, "| %s / %s | %s | %s | %s |\n", escape(r.Num), escape(r.Den), escape(m.Label), val, escape(reads))
		}
	}
	return b.String()
}

func (r *Report) ratioSummary() string {
	var rows strings.Builder
	for _, s := range r.Scenarios {
		rows.WriteString(s.ratioTable(true))
	}
	if rows.Len() == 0 {
		return ""
	}
	return "| scenario | ratio | of | value | reads as |\n| --- | --- | --- | ---: | --- |\n" + rows.String()
}

// FormatRatio prints a ratio with three significant digits.
func FormatRatio(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// ReadsAs says in words what ratio value v of r means, e.g. "wactor-c
// does 12% of protoactor's msgs/s".
func ReadsAs(r Ratio, m Metric, v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if m.Lower {
		if v >= 1 {
			return fmt.Sprintf("%s's %s is %sx %s's", r.Num, m.Label, FormatRatio(v), r.Den)
		}
		return fmt.Sprintf("%s's %s is %s of %s's", r.Num, m.Label, percent(v), r.Den)
	}
	if v >= 1 {
		return fmt.Sprintf("%s does %sx %s's %s", r.Num, FormatRatio(v), r.Den, m.Label)
	}
	return fmt.Sprintf("%s does %s of %s's %s", r.Num, percent(v), r.Den, m.Label)
}

func percent(v float64) string {
	p := v * 100
	switch {
	case p >= 10:
		return strconv.FormatFloat(p, 'f', 0, 64) + "%"
	case p >= 1:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	default:
		return strconv.FormatFloat(p, 'g', 2, 64) + "%"
	}
}
