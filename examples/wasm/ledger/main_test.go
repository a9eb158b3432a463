package main

import (
	"errors"
	"testing"

	wactor "github.com/wactor/wactor/guest-sdk/go"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

func amount(n int64) *int64 { return &n }

func TestDepositWaitsForItsApprover(t *testing.T) {
	h := wactortest.New(t, "ledger/alice")
	refuse := false
	h.OnAsk(func(target, method string, payload []byte) ([]byte, error) {
		if target != "ledger/bank" || method != "approve" {
			t.Fatalf("asked %s %s", target, method)
		}
		if refuse {
			return nil, wactor.NewError("refused", "no")
		}
		return wactor.Empty{}.MarshalCBOR(nil), nil
	})
	b, err := wactortest.Call[balanceReply](h, "deposit", depositRequest{Amount: amount(5), Approver: "ledger/bank"})
	if err != nil || b.Balance != 5 {
		t.Fatalf("deposit: %v, %v", b, err)
	}
	refuse = true
	if _, err := h.Call("deposit", depositRequest{Amount: amount(7), Approver: "ledger/bank"}.MarshalCBOR(nil)); err == nil {
		t.Fatal("a refused deposit succeeded")
	}
	b, err = wactortest.Call[balanceReply](h, "balance", wactor.Empty{})
	if err != nil || b.Balance != 5 {
		t.Fatalf("balance after a refused deposit: %v, %v", b, err)
	}
	if _, err := h.Call("approve", approveRequest{Amount: 1001}.MarshalCBOR(nil)); err == nil {
		t.Error("approve took an amount over the limit")
	}
	if _, err := h.Call("deposit", depositRequest{}.MarshalCBOR(nil)); !errors.Is(err, wactor.ErrBadRequest) {
		t.Errorf("deposit without amount: %v", err)
	}
}
