package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/testwasm"
)

// reminderFireLimit bounds the wait, after a reminder's due time, for it
// to ring when its owner was killed before: the killed node's actors are
// taken over (lease_ttl and a second, plus JetStream's leader election
// when the killed node's server led the actors' stream) and the new
// owner fires what is due.
const reminderFireLimit = 60 * time.Second

// TestClusterRemindersSurviveKill sets a reminder on each of 12 alarms
// through the three gateways, kills (SIGKILL) a node that owns some of
// them before they are due, and sees every alarm ring exactly once:
// after the takeover, after the killed node is started again, and a few
// lease periods later. make test runs TestLifecycleRemindersAfterKill
// (an external NATS server, no restart); this one runs with make
// clustertest.
func TestClusterRemindersSurviveKill(t *testing.T) {
	onlyFull(t)
	started := time.Now()
	c := newTestCluster(t, clusterOpts{leaseTTL: time.Second, nodes: 3,
		actors: "  - type: alarm\n    module: alarm.wasm\n",
		files:  map[string][]byte{"alarm.wasm": testwasm.Go(t, "alarm")}})
	const alarms = 12
	const due = 3 * time.Second
	cc := c.client(time.Now().Add(reminderFireLimit + 2*time.Minute))
	set := time.Now()
	for i := range alarms {
		status, reply, _, err := cc.post(i, "/v1/actors/alarm/"+strconv.Itoa(i)+"/set",
			`{"in_ms":`+strconv.FormatInt(due.Milliseconds(), 10)+`}`, "set-"+strconv.Itoa(i))
		if err != nil || status != http.StatusOK || !jsonEqual(reply, `{"fired":0}`) {
			t.Fatalf("set alarm/%d: %d %s %v", i, status, reply, err)
		}
	}
	// The victim is a node that holds some of the alarms, as the member
	// list counts them.
	var victim *clusterNode
	var held int
	waitUntil(t, 5*time.Second, "a node listing the alarms' activations", func() bool {
		acts := c.activations(c.nodes[0])
		total := 0
		for _, k := range acts {
			total += k
		}
		for _, n := range c.nodes {
			if acts[n.name] > held {
				victim, held = n, acts[n.name]
			}
		}
		return total == alarms
	})
	c.kill(victim)
	if time.Since(set) >= due {
		t.Fatalf("%s was killed %s after the alarms were set, not before they were due", victim.name, time.Since(set))
	}
	killed := time.Now()

	fired := func() []int64 {
		out := make([]int64, alarms)
		for i := range out {
			status, reply, _, err := cc.post(i, "/v1/actors/alarm/"+strconv.Itoa(i)+"/get", `{}`, "")
			var r struct{ Fired int64 }
			if err != nil || status != http.StatusOK || json.Unmarshal([]byte(reply), &r) != nil {
				t.Fatalf("get alarm/%d: %d %s %v", i, status, reply, err)
			}
			out[i] = r.Fired
		}
		return out
	}
	check := func(when string) {
		t.Helper()
		for i, f := range fired() {
			if f != 1 {
				t.Errorf("%s: alarm/%d rang %d times; want once", when, i, f)
			}
		}
	}
	var all time.Duration
	waitUntil(t, due+reminderFireLimit, "every alarm ringing after the kill", func() bool {
		for _, f := range fired() {
			if f > 1 {
				return true // check says which
			}
			if f == 0 {
				return false
			}
		}
		all = time.Since(set)
		return true
	})
	check("after the kill")
	c.restart(victim)
	time.Sleep(3 * c.ttl)
	check("after the killed node's restart")
	t.Logf("reminders: %d alarms due %s after being set; %s (held %d) killed %s after setting them; all rang %s after setting; "+
		"took %s", alarms, due, victim.name, held, killed.Sub(set).Round(time.Millisecond), all.Round(time.Millisecond),
		time.Since(started).Round(time.Second))
}
