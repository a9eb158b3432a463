package abi

// Version is the ABI version a guest must report from ExportABIVersion.
const Version = 1

// Names of the exports every guest module provides.
const (
	ExportMemory     = "memory"
	ExportInitialize = "_initialize" // optional; called once after instantiation
	ExportABIVersion = "wactor_abi_version"
	ExportAlloc      = "wactor_alloc"
	ExportHandle     = "wactor_handle"
)

// ExportReentrant is the optional export, () -> i32, by which a module
// declares that it can be re-entered: that a second wactor_handle may run
// while a first one waits in a host call (an ask), as a type with
// reentrant: call_chain needs. It returns ReentrantYes; absent, or any
// other result, means the module cannot be re-entered, and the host
// refuses to deploy it as a reentrant type.
const ExportReentrant = "wactor_reentrant"

// ReentrantYes is what ExportReentrant returns for "can be re-entered".
const ReentrantYes = 1

// ExportActivateHook is the optional export, () -> i32, by which a module
// says whether it does anything on an activate request: ActivateHookNone
// means that, in the state the module is in when asked, it would answer
// the activate hook's request with an empty success and nothing else (no
// import called, nothing written that a later turn could see). The host
// asks it once per module version, in the instance it takes the
// snapshot from, and then starts the instances of that snapshot without
// running their activate hook. Absent, or any other result, means the
// hook runs.
const ExportActivateHook = "wactor_activate_hook"

// ActivateHookNone is what ExportActivateHook returns for "nothing to do
// on activation".
const ActivateHookNone = 0

// ImportModule is the module name under which the host provides its functions.
const ImportModule = "wactor"

// Names of the host functions in ImportModule. Every one except ImportResult
// has the signature (ptr i32, len i32) -> i64; see PackResult.
const (
	ImportTell        = "tell"
	ImportAsk         = "ask"
	ImportStateGet    = "state_get"
	ImportStateSet    = "state_set"
	ImportStateDelete = "state_delete"
	ImportSelf        = "self"
	ImportLog         = "log"
	ImportDeactivate  = "deactivate"
	// Timers and reminders: set and cancel are buffered with the turn.
	ImportTimerSet       = "timer_set"
	ImportTimerCancel    = "timer_cancel"
	ImportReminderSet    = "reminder_set"
	ImportReminderCancel = "reminder_cancel"
	// ImportForward passes the ask the turn handles on to another actor,
	// whose reply answers the original asker (docs/ABI.md, forward).
	ImportForward = "forward"
	// ImportResult is (ptr i32, len i32) -> i32: it copies the pending result
	// of the last host call into guest memory and returns the bytes copied.
	ImportResult = "result"
)

// Status is the high half of a host call's i64 return value.
type Status uint32

// Statuses a host call returns.
const (
	// StatusOK: the call succeeded; a result of the packed length is pending.
	StatusOK Status = 0
	// StatusNotFound: state_get found no value for the key.
	StatusNotFound Status = 1
	// StatusError: the call failed; the pending result is an ErrorEnvelope.
	StatusError Status = 2
)

// PackResult packs a host call's status and the length of its pending result
// into the i64 the call returns: status in the high 32 bits, length in the low.
func PackResult(s Status, n uint32) uint64 { return uint64(s)<<32 | uint64(n) }

// UnpackResult splits a host call's return value into status and length.
func UnpackResult(v uint64) (Status, uint32) { return Status(v >> 32), uint32(v) }

// PackPointer packs a guest pointer and length as wactor_handle returns them:
// pointer in the high 32 bits, length in the low.
func PackPointer(ptr, n uint32) uint64 { return uint64(ptr)<<32 | uint64(n) }

// UnpackPointer splits wactor_handle's return value into pointer and length.
func UnpackPointer(v uint64) (ptr, n uint32) { return uint32(v >> 32), uint32(v) }

// Log levels carried by LogArgs.
const (
	LevelDebug = 0
	LevelInfo  = 1
	LevelWarn  = 2
	LevelError = 3
)

// Missed-tick policies of a reminder (ReminderSet.Missed): what happens to
// the ticks that came due while no host was running.
const (
	// MissedCatchUp fires once for all the missed ticks, as soon as the
	// host is back, then continues on schedule. The default.
	MissedCatchUp = "catch_up"
	// MissedSkip drops the missed ticks and waits for the next one on
	// schedule; a once reminder whose time passed is deleted unfired.
	MissedSkip = "skip"
)
