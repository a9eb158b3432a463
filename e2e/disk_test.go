//go:build linux

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/smalldisk"
	"github.com/wactor/wactor/internal/testwasm"
)

// TestFullDisk runs wactor with its data folder on a 16 MiB tmpfs and
// fills it with state through asks. Before the store refused writes that
// do not fit, badger's write through a memory map faulted (SIGBUS) and the
// process died, and died again on restart. Now the asks that cannot be
// stored answer 503 unavailable, the process keeps answering health checks
// and reads, asks succeed again as soon as space is freed, a SIGKILL and a
// restart on the nearly full disk come back up, and every acknowledged
// value reads back as it was acknowledged. On a disk filled to the last
// block by something else, wactor refuses to start, with the reason.
func TestFullDisk(t *testing.T) {
	disk := smalldisk.Mount(t, 16<<20)
	filler := smalldisk.NewFiller(t, disk)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "conformance.wasm"), testwasm.C(t, "conformance"))
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(disk, "data")}
	write(t, a.manifest, []byte(`version: 1
storage:
  kind: badger
  sync: true
actors:
  - type: kv
    module: conformance.wasm
    max_message: 1MiB
`))
	s := start(t, a)
	filler.Leave(10 << 20)

	acked := make(map[string]string) // key -> value of every acknowledged set
	next := 0
	fillUp := func() {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for start := next; ; next++ {
			if next-start == 200 || time.Now().After(deadline) {
				t.Fatalf("%d asks and the 16 MiB disk is not full", next-start)
			}
			key, val := fmt.Sprint("k", next), bigValue(next)
			status, body := s.post("/v1/actors/kv/a/set", fmt.Sprintf(`{"key":%q,"value":%q}`, key, val))
			if status == http.StatusOK {
				acked[key] = val
				continue
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if status != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &e) != nil ||
				e.Error.Code != "unavailable" || !strings.Contains(e.Error.Message, "not enough free disk space") {
				t.Fatalf("set %s on a filling disk = %d %s; want 200, or 503 unavailable naming the disk once it is full", key, status, body)
			}
			t.Logf("set %s = %d %s", key, status, body)
			s.ask("/v1/actors/kv/a/get", fmt.Sprintf(`{"key":%q}`, key), `{}`) // refused means not stored
			next++
			return
		}
	}
	readBack := func() {
		t.Helper()
		for key, val := range acked {
			s.ask("/v1/actors/kv/a/get", fmt.Sprintf(`{"key":%q}`, key), fmt.Sprintf(`{"value":%q}`, val))
		}
	}

	fillUp()
	if len(acked) == 0 {
		t.Fatal("no set succeeded with 10 MiB free")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatalf("GET %s on a full disk: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s on a full disk = %d, want 200", path, resp.StatusCode)
		}
	}
	readBack()

	// Space returns: the next ask is stored, with no restart.
	filler.Leave(-1)
	s.ask("/v1/actors/kv/a/set", `{"key":"after","value":"freed"}`, `{}`)
	acked["after"] = "freed"

	// wactor fills the disk by itself, is killed, and starts again on it.
	fillUp()
	s.kill()
	s = start(t, a)
	readBack()
	fillUp()
	filler.Leave(-1)
	s.ask("/v1/actors/kv/a/set", `{"key":"again","value":"freed"}`, `{}`)
	acked["again"] = "freed"
	readBack()
	s.stop(syscall.SIGTERM)

	// On a disk something else filled to the last block, wactor does not
	// start (opening badger would write), and says why instead of faulting.
	filler.Leave(0)
	cmd := exec.Command(wactorBin(t), "run", "-f", a.manifest, "--http-addr", "127.0.0.1:0", "--data-dir", a.data)
	cmd.Dir = a.dir
	out, err := runBounded(cmd, startTimeout)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "not enough free disk space") {
		t.Fatalf("wactor run on a full disk: %v; want exit code 1 and the reason:\n%s", err, out)
	}
	filler.Leave(-1)
	s = start(t, a)
	readBack()
	s.stop(syscall.SIGTERM)
}

// bigValue returns about 200 KiB of random text, the same for the same
// seed; random, so that badger's compression cannot shrink it.
func bigValue(seed int) string {
	b := make([]byte, 150<<10)
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return base64.StdEncoding.EncodeToString(b)
}
