package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/wactor/wactor/internal/testwasm"
)

// rss returns the resident memory of process pid, in bytes.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("reading the resident memory of wactor: %v (Linux only)", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS of wactor: %q", rest)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/pid/status")
	return 0
}

// The attack of issue 12: one client touches many actor ids of a
// standard-Go guest, each of which keeps an instance of 4 to 8 MiB alive
// (200 ids took wactor to 900 MiB). With a guest memory budget in the
// manifest, wactor's resident memory stays bounded, and the evicted
// actors keep their state.
func TestManyIDsBoundedMemory(t *testing.T) {
	const ids = 200
	const budget = 32 << 20
	dir := t.TempDir()
	write(t, filepath.Join(dir, "counter.wasm"), testwasm.Go(t, "counter"))
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(`version: 1
storage:
  sync: false
max_guest_memory: 32MiB
actors:
  - type: counter
    module: counter.wasm
`))
	s := start(t, a)
	pid := s.cmd.Process.Pid
	base := rss(t, pid)
	peak := base
	for i := 0; i < ids; i++ {
		status, body := s.post("/v1/actors/counter/id-"+strconv.Itoa(i)+"/add", `{"n":`+strconv.Itoa(i+1)+`}`)
		if status != http.StatusOK {
			t.Fatalf("add to id-%d = %d %s; want 200", i, status, body)
		}
		if i%10 == 9 {
			peak = max(peak, rss(t, pid))
		}
	}
	for i := 0; i < 5; i++ {
		s.ask("/v1/actors/counter/id-"+strconv.Itoa(i)+"/get", `{}`, `{"n":`+strconv.Itoa(i+1)+`}`)
	}
	t.Logf("resident memory: %d MiB after start, at most %d MiB while %d ids were touched (guest memory budget %d MiB)",
		base>>20, peak>>20, ids, budget>>20)
	// Guest memory is Go heap, which the collector lets grow to about
	// twice what is live; the rest is wactor itself and badger.
	if limit := base + 4*budget; peak > limit {
		t.Errorf("resident memory reached %d MiB; want at most %d MiB (start + 4 x the budget)", peak>>20, limit>>20)
	}
	s.stop(syscall.SIGTERM)
}
