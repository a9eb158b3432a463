//go:build wasip1

package wactor

import (
	"runtime"
	"unsafe"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
)

// The host's functions, module "wactor". Each takes the pointer and length
// of its CBOR argument and returns abi.PackResult(status, resultLen).

//go:wasmimport wactor tell
func hostTell(ptr, n uint32) uint64

//go:wasmimport wactor ask
func hostAsk(ptr, n uint32) uint64

//go:wasmimport wactor state_get
func hostStateGet(ptr, n uint32) uint64

//go:wasmimport wactor state_set
func hostStateSet(ptr, n uint32) uint64

//go:wasmimport wactor state_delete
func hostStateDelete(ptr, n uint32) uint64

//go:wasmimport wactor self
func hostSelf(ptr, n uint32) uint64

//go:wasmimport wactor log
func hostLog(ptr, n uint32) uint64

//go:wasmimport wactor deactivate
func hostDeactivate(ptr, n uint32) uint64

//go:wasmimport wactor timer_set
func hostTimerSet(ptr, n uint32) uint64

//go:wasmimport wactor timer_cancel
func hostTimerCancel(ptr, n uint32) uint64

//go:wasmimport wactor reminder_set
func hostReminderSet(ptr, n uint32) uint64

//go:wasmimport wactor reminder_cancel
func hostReminderCancel(ptr, n uint32) uint64

//go:wasmimport wactor watch
func hostWatch(ptr, n uint32) uint64

//go:wasmimport wactor unwatch
func hostUnwatch(ptr, n uint32) uint64

//go:wasmimport wactor publish
func hostPublish(ptr, n uint32) uint64

//go:wasmimport wactor subscribe
func hostSubscribe(ptr, n uint32) uint64

//go:wasmimport wactor unsubscribe
func hostUnsubscribe(ptr, n uint32) uint64

//go:wasmimport wactor forward
func hostForward(ptr, n uint32) uint64

// hostResult copies the pending result of the last host call into
// [ptr, ptr+n) and returns how many bytes it copied.
//
//go:wasmimport wactor result
func hostResult(ptr, n uint32) uint32

// The guest's exports. _initialize, made by -buildmode=c-shared, runs the
// package init functions, which register the handlers.

//go:wasmexport wactor_abi_version
func wactorABIVersion() uint32 { return abi.Version }

//go:wasmexport wactor_activate_hook
func wactorActivateHook() uint32 { return activateHookAnswer() }

//go:wasmexport wactor_alloc
func wactorAlloc(n uint32) uint32 {
	return addr(allocInput(int(n)))
}

//go:wasmexport wactor_handle
func wactorHandle(ptr, n uint32) uint64 {
	in, ok := within(pendIn, ptr, n)
	if !ok {
		in, ok = within(inBuf, ptr, n)
	}
	var out []byte
	if ok {
		out = handle(in)
	} else {
		out = handleError(&abi.Error{Code: abi.CodeBadRequest,
			Message: "wactor: wactor_handle called with a request outside the buffer wactor_alloc returned"})
	}
	return abi.PackPointer(addr(out), uint32(len(out)))
}

// within returns the n bytes at address ptr if they lie inside buf's
// backing array. The SDK reads requests only from buffers it handed out.
func within(buf []byte, ptr, n uint32) ([]byte, bool) {
	buf = buf[:cap(buf)]
	if len(buf) == 0 {
		return nil, false
	}
	start := addr(buf)
	if ptr < start || uint64(ptr-start)+uint64(n) > uint64(len(buf)) {
		return nil, false
	}
	off := ptr - start
	return buf[off : off+n], true
}

// addr returns the linear-memory address of b's first byte (0 if b has no
// backing array). The Go and TinyGo collectors do not move objects, so the
// address stays valid while b is reachable.
func addr(b []byte) uint32 { return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

func hostCall(fn hostlink.Func, arg []byte) (abi.Status, []byte) {
	p, n := addr(arg), uint32(len(arg))
	var v uint64
	switch fn {
	case hostlink.Tell:
		v = hostTell(p, n)
	case hostlink.Ask:
		v = hostAsk(p, n)
	case hostlink.StateGet:
		v = hostStateGet(p, n)
	case hostlink.StateSet:
		v = hostStateSet(p, n)
	case hostlink.StateDelete:
		v = hostStateDelete(p, n)
	case hostlink.Self:
		v = hostSelf(p, n)
	case hostlink.Log:
		v = hostLog(p, n)
	case hostlink.Deactivate:
		v = hostDeactivate(p, n)
	case hostlink.TimerSet:
		v = hostTimerSet(p, n)
	case hostlink.TimerCancel:
		v = hostTimerCancel(p, n)
	case hostlink.ReminderSet:
		v = hostReminderSet(p, n)
	case hostlink.ReminderCancel:
		v = hostReminderCancel(p, n)
	case hostlink.Watch:
		v = hostWatch(p, n)
	case hostlink.Unwatch:
		v = hostUnwatch(p, n)
	case hostlink.Publish:
		v = hostPublish(p, n)
	case hostlink.Subscribe:
		v = hostSubscribe(p, n)
	case hostlink.Unsubscribe:
		v = hostUnsubscribe(p, n)
	case hostlink.Forward:
		v = hostForward(p, n)
	}
	runtime.KeepAlive(arg)
	st, size := abi.UnpackResult(v)
	if size == 0 {
		return st, nil
	}
	res := make([]byte, size)
	if got := hostResult(addr(res), size); got != size {
		return abi.StatusError, abi.AppendError(nil, &abi.Error{Code: abi.CodeBadReply,
			Message: "wactor: the host's result for " + fn.String() + " was shorter than announced"})
	}
	return st, res
}
