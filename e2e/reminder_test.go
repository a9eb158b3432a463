package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// TestReminderSurvivesSIGKILL sets a durable reminder on the real binary,
// kills the process with SIGKILL before it is due, restarts it and sees
// the reminder fire, once.
func TestReminderSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "alarm.wasm"), testwasm.Go(t, "alarm"))
	a := &app{dir: dir, manifest: filepath.Join(dir, "wactor.yaml"), data: filepath.Join(dir, "data")}
	write(t, a.manifest, []byte(`version: 1
storage:
  kind: badger
  sync: true
actors:
  - type: alarm
    module: alarm.wasm
`))
	srv := start(t, a)
	set := time.Now()
	srv.ask("/v1/actors/alarm/a/set", `{"in_ms":1500}`, `{"fired":0}`)
	code, out, _ := wactor(t, "reminders", "list", "alarm/a", "--addr", srv.url)
	if code != 0 || !strings.Contains(out, "alarm") || !strings.Contains(out, "once") {
		t.Fatalf("wactor reminders list = %d %q; want the alarm", code, out)
	}
	srv.kill()
	if time.Since(set) >= 1500*time.Millisecond {
		t.Fatalf("the process was killed %s after setting the alarm, not before it was due", time.Since(set))
	}

	srv = start(t, a)
	deadline := time.Now().Add(callTimeout)
	for {
		status, got := srv.post("/v1/actors/alarm/a/get", "")
		if status == http.StatusOK && jsonEqual(got, `{"fired":1}`) {
			break
		}
		if status != http.StatusOK || !jsonEqual(got, `{"fired":0}`) || time.Now().After(deadline) {
			t.Fatalf("get = %d %s; want {\"fired\":1} within %s of the restart\n%s", status, got, callTimeout, srv.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// It rang once, and the once reminder is gone.
	time.Sleep(200 * time.Millisecond)
	srv.ask("/v1/actors/alarm/a/get", "", `{"fired":1}`)
	code, out, _ = wactor(t, "reminders", "list", "alarm/a", "--addr", srv.url)
	if code != 0 || !strings.Contains(out, "has no reminders") {
		t.Fatalf("wactor reminders list after it rang = %d %q", code, out)
	}
	srv.stop(syscall.SIGTERM)
}
