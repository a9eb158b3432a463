//go:build !wasip1

package wactor

import (
	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
)

// Outside WebAssembly the SDK talks to the in-memory host of package
// wactortest, so actors and the SDK itself test natively with go test.

func init() { hostlink.Handle = handle }

var errNoHost = abi.AppendError(nil, &abi.Error{Code: abi.CodeUnavailable,
	Message: "wactor: no host; outside WebAssembly create one with wactortest.New"})

func hostCall(fn hostlink.Func, arg []byte) (abi.Status, []byte) {
	h := hostlink.Current
	if h == nil {
		return abi.StatusError, errNoHost
	}
	return h.Call(fn, arg)
}
