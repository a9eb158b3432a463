// Command bank is an account actor (type "account") that moves money
// exactly once between accounts, even when the host is killed mid-way.
//
//	deposit  {"amount": n}              -> {"balance": b}
//	balance                             -> {"balance": b, "sent": s, "received": r}
//	transfer {"to": "<id>", "amount": n} -> {"balance": b}   (or insufficient_funds)
//	credit   {"amount": n}              -> {"balance": b}   (sent by transfer)
//
// transfer debits this account and, in the same turn, tells account/<to> to
// credit the amount. The host commits the debit and the tell together and
// delivers the tell only after the commit, and the credit's turn consumes
// it exactly once: money never vanishes or doubles. "sent" and "received"
// count the transfers applied, so a test can check each was applied once.
package main

import (
	"errors"
	"strconv"

	wactor "github.com/wactor/wactor/guest-sdk/go"
)

//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type amount,transferRequest,balanceReply,statement

// The account's state, each a CBOR integer.
var (
	balance  = wactor.NewState[wactor.Int]("balance")
	sent     = wactor.NewState[wactor.Int]("sent")
	received = wactor.NewState[wactor.Int]("received")
)

var errAmount = wactor.NewError(wactor.CodeBadRequest, `need a positive integer "amount", as in {"amount": 10}`)

// amount is the payload of deposit and credit.
type amount struct {
	Amount int64 `cbor:"amount"`
}

func (r amount) Validate() error {
	if r.Amount <= 0 {
		return errAmount
	}
	return nil
}

type transferRequest struct {
	To     string `cbor:"to"`
	Amount int64  `cbor:"amount"`
}

func (r transferRequest) Validate() error {
	if r.Amount <= 0 {
		return errAmount
	}
	if r.To == "" {
		return wactor.NewError(wactor.CodeBadRequest, `transfer needs a text "to", the id of the receiving account`)
	}
	return nil
}

type balanceReply struct {
	Balance int64 `cbor:"balance"`
}

type statement struct {
	Balance  int64 `cbor:"balance"`
	Sent     int64 `cbor:"sent"`
	Received int64 `cbor:"received"`
}

func init() {
	wactor.HandleTyped("deposit", deposit)
	wactor.HandleTyped("balance", func(ctx *wactor.Context, _ wactor.Empty) (statement, error) {
		b, err1 := balance.Get(ctx)
		s, err2 := sent.Get(ctx)
		r, err3 := received.Get(ctx)
		return statement{Balance: int64(b), Sent: int64(s), Received: int64(r)}, errors.Join(err1, err2, err3)
	})
	wactor.HandleTyped("transfer", transfer)
	wactor.HandleTyped("credit", func(ctx *wactor.Context, req amount) (balanceReply, error) {
		if _, err := received.Update(ctx, inc); err != nil {
			return balanceReply{}, err
		}
		return deposit(ctx, req)
	})
}

func main() {}

func inc(n wactor.Int) wactor.Int { return n + 1 }

func deposit(ctx *wactor.Context, req amount) (balanceReply, error) {
	b, err := balance.Update(ctx, func(b wactor.Int) wactor.Int { return b + wactor.Int(req.Amount) })
	return balanceReply{Balance: int64(b)}, err
}

func transfer(ctx *wactor.Context, req transferRequest) (balanceReply, error) {
	to := wactor.Ref{Type: "account", ID: req.To}
	if to == ctx.Self() {
		return balanceReply{}, wactor.NewError(wactor.CodeBadRequest, "cannot transfer to the same account")
	}
	b, err := balance.Get(ctx)
	if err != nil {
		return balanceReply{}, err
	}
	if int64(b) < req.Amount {
		return balanceReply{}, wactor.NewError("insufficient_funds",
			"balance "+strconv.FormatInt(int64(b), 10)+" is less than "+strconv.FormatInt(req.Amount, 10))
	}
	if err := wactor.Tell(ctx, to, "credit", amount{Amount: req.Amount}); err != nil {
		return balanceReply{}, err
	}
	balance.Set(ctx, b-wactor.Int(req.Amount))
	if _, err := sent.Update(ctx, inc); err != nil {
		return balanceReply{}, err
	}
	return balanceReply{Balance: int64(b) - req.Amount}, nil
}
