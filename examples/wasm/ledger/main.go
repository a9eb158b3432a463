// Command ledger is an account whose deposits wait for an approver and
// whose balance stays readable meanwhile: balance is declared read-only
// in the manifest (read_only: [balance]), so it answers, from the
// committed balance, while a deposit waits in its ask.
//
//	deposit {"amount": 5, "approver"?: "type/id", "method"?: "approve"}
//	        -> {"balance": new balance}
//	balance -> {"balance": committed balance}
//
// deposit adds amount to the balance, then, when an approver is named,
// asks it method (default "approve") with {"amount": 5}; if the approver
// refuses or does not answer in time, the deposit fails and nothing of it
// is kept. A ledger approves any amount up to 1,000 with approve.
package main

import wactor "github.com/wactor/wactor/guest-sdk/go"

//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type depositRequest,approveRequest,balanceReply

// approveLimit is the largest amount a ledger approves.
const approveLimit = 1000

type depositRequest struct {
	Amount   *int64 `cbor:"amount"`
	Approver string `cbor:"approver"`
	Method   string `cbor:"method"`
}

func (r depositRequest) Validate() error {
	if r.Amount == nil || *r.Amount <= 0 {
		return wactor.NewError(wactor.CodeBadRequest, `deposit needs a positive integer "amount", as in {"amount": 5}`)
	}
	return nil
}

type approveRequest struct {
	Amount int64 `cbor:"amount"`
}

type balanceReply struct {
	Balance int64 `cbor:"balance"`
}

var balance = wactor.NewState[wactor.Int]("balance")

func init() {
	wactor.HandleTyped("deposit", deposit)
	wactor.HandleTyped("balance", func(ctx *wactor.Context, _ wactor.Empty) (balanceReply, error) {
		n, err := balance.Get(ctx)
		return balanceReply{Balance: int64(n)}, err
	})
	wactor.HandleTyped("approve", func(_ *wactor.Context, req approveRequest) (wactor.Empty, error) {
		if req.Amount > approveLimit {
			return wactor.Empty{}, wactor.NewError("refused", "amounts over 1000 need a person")
		}
		return wactor.Empty{}, nil
	})
}

func deposit(ctx *wactor.Context, req depositRequest) (balanceReply, error) {
	n, err := balance.Update(ctx, func(n wactor.Int) wactor.Int { return n + wactor.Int(*req.Amount) })
	if err != nil || req.Approver == "" {
		return balanceReply{Balance: int64(n)}, err
	}
	method := req.Method
	if method == "" {
		method = "approve"
	}
	// The new balance is this turn's own until it commits: a balance
	// asked meanwhile answers the committed one.
	if _, err := ctx.Ask(req.Approver, method, approveRequest{Amount: *req.Amount}.MarshalCBOR(nil), 0); err != nil {
		return balanceReply{}, err
	}
	return balanceReply{Balance: int64(n)}, nil
}

func main() {}
