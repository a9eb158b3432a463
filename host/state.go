package host

import (
	"context"
	"strconv"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
)

// State returns the committed state of the actor ref as the store holds
// it: what its last committed turn left, whether or not it is active. A
// turn in progress is not seen. It reads the whole state, as activating
// the actor would; an actor never written to has Version 0 and no keys.
// It is for operators (the gateway's read-only state route): actors read
// their own state through the ABI.
func (h *Host) State(ctx context.Context, ref abi.Ref) (storage.Snapshot, error) {
	if err := ref.Validate(); err != nil {
		return storage.Snapshot{}, err
	}
	if _, ok := h.lookupType(ref.Type); !ok {
		return storage.Snapshot{}, abi.NewError(abi.CodeUnknownType, "no actor type "+strconv.Quote(ref.Type))
	}
	snap, err := h.store.Load(ctx, ref.String())
	if err != nil {
		return storage.Snapshot{}, abi.NewError(abi.CodeUnavailable, "reading the state of "+ref.String()+": "+err.Error())
	}
	return snap, nil
}
