// Package hostlink connects the SDK to a host that is not WebAssembly: the
// in-memory host of package wactortest. A wasip1 build of the SDK talks to
// the real host through imports instead and leaves Current nil.
package hostlink

import "github.com/wactor/wactor/abi"

// Func names one host function of the "wactor" import module.
type Func uint8

// Host functions, one per import of the ABI (the result import excepted:
// Host.Call returns the pending result directly).
const (
	Tell Func = iota
	Ask
	StateGet
	StateSet
	StateDelete
	Self
	Log
	Deactivate
	TimerSet
	TimerCancel
	ReminderSet
	ReminderCancel
	Watch
	Unwatch
	Publish
	Subscribe
	Unsubscribe
	Forward
)

var funcNames = [...]string{
	Tell:        abi.ImportTell,
	Ask:         abi.ImportAsk,
	StateGet:    abi.ImportStateGet,
	StateSet:    abi.ImportStateSet,
	StateDelete: abi.ImportStateDelete,
	Self:        abi.ImportSelf,
	Log:         abi.ImportLog,
	Deactivate:  abi.ImportDeactivate,

	TimerSet:       abi.ImportTimerSet,
	TimerCancel:    abi.ImportTimerCancel,
	ReminderSet:    abi.ImportReminderSet,
	ReminderCancel: abi.ImportReminderCancel,

	Watch:   abi.ImportWatch,
	Unwatch: abi.ImportUnwatch,

	Publish:     abi.ImportPublish,
	Subscribe:   abi.ImportSubscribe,
	Unsubscribe: abi.ImportUnsubscribe,
	Forward:     abi.ImportForward,
}

// String returns the ABI name of the import.
func (f Func) String() string {
	if int(f) < len(funcNames) {
		return funcNames[f]
	}
	return "unknown"
}

// ByName returns the Func whose ABI name is name.
func ByName(name string) (Func, bool) {
	for f, n := range funcNames {
		if n == name {
			return Func(f), true
		}
	}
	return 0, false
}

// Host answers the SDK's host calls. arg is the encoded argument of the
// call and is only valid during the call. The result is the pending result
// the ABI's result import would copy: the answer for StatusOK, an error
// envelope (abi.AppendError) for StatusError.
type Host interface {
	Call(fn Func, arg []byte) (abi.Status, []byte)
}

// Current is the host the SDK calls in a native build; nil means none.
var Current Host

// Handle is the SDK's wactor_handle: it takes an encoded abi.Request and
// returns an encoded abi.Reply that stays valid until the next call into
// the SDK. The SDK sets it in a native build.
var Handle func(request []byte) []byte
