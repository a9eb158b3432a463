package report

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Machine describes the machine and the toolchain of this process: CPU
// model, cores, memory, kernel, Go version and the versions of the listed
// modules this binary was built with (for instance wazero's).
func Machine(modules ...string) []KV {
	kvs := []KV{
		{"CPU", cpuModel()},
		{"cores", strconv.Itoa(runtime.NumCPU()) + " (GOMAXPROCS " + strconv.Itoa(runtime.GOMAXPROCS(0)) + ")"},
		{"memory", memTotal()},
		{"kernel", kernel()},
		{"Go", runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH},
		{"load average at start", LoadAverage()},
	}
	for _, m := range modules {
		kvs = append(kvs, KV{m, ModuleVersion(m)})
	}
	return kvs
}

// ModuleVersion returns the version of module path this binary was built
// with, "unknown" when it is not among its dependencies.
func ModuleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			v := d.Version
			if d.Replace != nil {
				v += " => " + d.Replace.Path
				if d.Replace.Version != "" {
					v += " " + d.Replace.Version
				}
			}
			return v
		}
	}
	return "unknown"
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return strings.TrimSpace(rest)
			}
			return strconv.FormatFloat(float64(kib)/(1<<20), 'f', 1, 64) + " GiB"
		}
	}
	return "unknown"
}

// LoadAverage returns the 1, 5 and 15 minute load averages from
// /proc/loadavg, "unknown" when it cannot be read. Figures taken on a
// machine busy with other work are slower and noisier.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return runtime.GOOS
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// RSSKiB returns this process's resident set size (VmRSS) in KiB.
func RSSKiB() (int64, error) { return StatusKiB("VmRSS") }

// StatusKiB returns a size field of this process's /proc/self/status in
// KiB: VmRSS, VmHWM (the peak resident set), RssAnon, RssShmem, ...
func StatusKiB(field string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	return ParseStatusKiB(string(b), field)
}

// ParseVmRSS reads the VmRSS line of a /proc/PID/status file, in KiB.
func ParseVmRSS(status string) (int64, error) { return ParseStatusKiB(status, "VmRSS") }

// ParseStatusKiB reads the line of field of a /proc/PID/status file, in
// KiB.
func ParseStatusKiB(status, field string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, reportError("report: no " + field + " line in /proc/self/status")
}

type reportError string

func (e reportError) Error() string { return string(e) }
