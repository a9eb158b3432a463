package abicheck

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/internal/testwasm"
)

var update = flag.Bool("update", false, "rewrite the SDKs' limits files from package abi")

// limit is one of abi's limits as the other SDKs carry it.
type limit struct {
	name  string // in SCREAMING_SNAKE_CASE
	value uint64
	ms    bool // a time in milliseconds: 64 bits in every language
	doc   string
}

func limits() []limit {
	return []limit{
		{"DEFAULT_MAX_MESSAGE", abi.DefaultMaxMessage, false, "Largest message, reply, state value or timer and reminder payload, unless the manifest sets max_message"},
		{"ARG_OVERHEAD", abi.ArgOverhead, false, "How much larger than the message limit one host call's argument may be"},
		{"MAX_KEY_LEN", abi.MaxKeyLen, false, "Bytes of a state key"},
		{"MAX_METHOD_LEN", abi.MaxMethodLen, false, "Bytes of a method name"},
		{"MAX_LOG_LEN", abi.MaxLogLen, false, "Bytes of a log message; longer ones are cut"},
		{"MAX_SENDS_PER_TURN", abi.MaxSendsPerTurn, false, "Tells one turn may send"},
		{"MAX_FORWARDS_PER_TURN", abi.MaxForwardsPerTurn, false, "Times one turn may forward the ask it handles"},
		{"MAX_SCHEDULE_NAME", abi.MaxScheduleName, false, "Bytes of a timer's or reminder's name"},
		{"MAX_TIMERS", abi.MaxTimers, false, "Timers one activation may have set at once"},
		{"MAX_TIMER_OPS", abi.MaxTimerOps, false, "Timer sets and cancels one turn may buffer"},
		{"MAX_REMINDER_OPS", abi.MaxReminderOps, false, "Reminders (distinct names) one turn may set or cancel"},
		{"MAX_CRON_LEN", abi.MaxCronLen, false, "Bytes of a cron expression"},
		{"MAX_DELAY_MS", abi.MaxDelayMS, true, "Longest delay or period of a timer or reminder: 10 years"},
		{"MAX_AT_UNIX_MS", abi.MaxAtUnixMS, true, "Latest at_unix_ms of a reminder: 9999-12-31T23:59:59.999Z"},
		{"MAX_TYPE_LEN", abi.MaxTypeLen, false, "Bytes of an actor type's name"},
		{"MAX_ID_LEN", abi.MaxIDLen, false, "Bytes of an actor id"},
		{"MAX_WATCHES", abi.MaxWatches, false, "Actors one actor may watch at once"},
		{"MAX_WATCHERS", abi.MaxWatchers, false, "Actors that may watch one actor at once"},
		{"MAX_TOPIC_LEN", abi.MaxTopicLen, false, "Bytes of a topic's name"},
		{"MAX_SUBSCRIPTIONS", abi.MaxSubscriptions, false, "Topics one actor may subscribe to"},
		{"MAX_NESTING", abi.MaxNesting, false, "Turns that may run nested in one activation's waiting turns at once (reentrant types)"},
	}
}

const generated = "Generated from package abi's limits by internal/abicheck (go test ./internal/abicheck -update); do not edit."

// sdkLimitFiles renders each SDK's limits file.
func sdkLimitFiles() map[string]string {
	var rs, ts, c strings.Builder
	fmt.Fprintf(&rs, "//! The host's limits on what a guest may ask of it, the same numbers the\n//! host and the native test kits apply. %s\n", generated)
	fmt.Fprintf(&ts, "// The host's limits on what a guest may ask of it, the same numbers the\n// host and the native test kits apply. %s\n", generated)
	fmt.Fprintf(&c, "/* The host's limits on what a guest may ask of it, the same numbers the\n * host and the native test kits apply. %s */\n#ifndef WACTOR_LIMITS_H\n#define WACTOR_LIMITS_H\n", generated)
	for _, l := range limits() {
		rsType, tsType, cSuffix := "usize", "i32", "u"
		if l.ms {
			rsType, tsType, cSuffix = "u64", "u64", "ull"
		}
		fmt.Fprintf(&rs, "\n/// %s.\npub const %s: %s = %d;\n", l.doc, l.name, rsType, l.value)
		fmt.Fprintf(&ts, "\n/** %s. */\nexport const %s: %s = %d;\n", l.doc, l.name, tsType, l.value)
		fmt.Fprintf(&c, "\n/* %s. */\n#define WACTOR_%s %d%s\n", l.doc, l.name, l.value, cSuffix)
	}
	c.WriteString("\n#endif\n")
	return map[string]string{
		"guest-sdk/rust/src/limits.rs":                rs.String(),
		"guest-sdk/assemblyscript/assembly/limits.ts": ts.String(),
		"guest-sdk/c/wactor_limits.h":                 c.String(),
	}
}

// TestSDKLimitsMatchABI checks that the Rust, AssemblyScript and C SDKs
// carry abi's limits: their limits files are what package abi renders.
// The Rust SDK's native kit (wactor::testing) applies them.
func TestSDKLimitsMatchABI(t *testing.T) {
	for path, want := range sdkLimitFiles() {
		file := filepath.Join(testwasm.Root(), path)
		if *update {
			if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v; go test ./internal/abicheck -update writes it", err)
		}
		if string(got) != want {
			t.Errorf("%s is not what package abi's limits render; run go test ./internal/abicheck -run TestSDKLimitsMatchABI -update", path)
		}
	}
}
