package host

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

// DefaultGuestMemoryPercent is the share of the machine's memory that the
// guests of all activations together may hold when Config.MaxGuestMemory
// is zero. Where guest memory is Go heap (not Linux: see
// host/internal/linmem), the garbage collector lets the heap grow to about
// twice what is live and wazero copies a memory when it grows; a quarter
// leaves room for that, the host and the store.
const DefaultGuestMemoryPercent = 25

// fallbackMachineMemory stands in for the machine's memory where it cannot
// be read (not Linux).
const fallbackMachineMemory = 4 << 30

// guestMemoryBudget returns the budget cfg asks for, in bytes (0: none),
// and says how it was reached, for the log.
func guestMemoryBudget(cfg Config, machine func() (int64, string)) (int64, string) {
	switch {
	case cfg.MaxGuestMemory < 0:
		return 0, "no budget"
	case cfg.MaxGuestMemory > 0:
		return cfg.MaxGuestMemory, "configured"
	}
	pct := cfg.GuestMemoryPercent
	if pct == 0 {
		pct = DefaultGuestMemoryPercent
	}
	total, from := machine()
	return total / 100 * int64(pct), strconv.Itoa(pct) + "% of " + strconv.FormatInt(total, 10) + " bytes (" + from + ")"
}

// machineMemory returns the memory this process may use: the machine's
// RAM, or its control group's limit when that is lower (in a container),
// and where the figure came from.
func machineMemory() (int64, string) {
	total, from := int64(min(ramSize(), 1<<62)), "physical memory"
	if total <= 0 {
		total, from = fallbackMachineMemory, "physical memory unknown; assumed"
	}
	if limit := cgroupMemoryLimit(os.DirFS("/")); limit > 0 && limit < total {
		total, from = limit, "cgroup memory limit"
	}
	return total, from
}

// cgroupMemoryLimit returns the lowest memory limit of the control group
// of this process and its ancestors, cgroup v2 or v1, or 0 when there is
// none. fsys is the root of the file system.
func cgroupMemoryLimit(fsys fs.FS) int64 {
	data, err := fs.ReadFile(fsys, "proc/self/cgroup")
	if err != nil {
		return 0
	}
	var limit int64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// hierarchy-id:controllers:path; v2 is "0::path".
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		var dir, file string
		switch {
		case parts[0] == "0" && parts[1] == "":
			dir, file = "sys/fs/cgroup", "memory.max"
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			dir, file = "sys/fs/cgroup/memory", "memory.limit_in_bytes"
		default:
			continue
		}
		// In a container the file system shows the group's own limits at
		// the root of the mount, not under the host's path: walk up to it.
		for p := path.Clean("/" + parts[2]); ; p = path.Dir(p) {
			if l := readLimit(fsys, path.Join(dir, p, file)); l > 0 && (limit == 0 || l < limit) {
				limit = l
			}
			if p == "/" {
				break
			}
		}
	}
	return limit
}

// readLimit reads a cgroup memory limit file; 0 means none ("max", or the
// huge number v1 writes for no limit).
func readLimit(fsys fs.FS, name string) int64 {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0
	}
	return n
}
