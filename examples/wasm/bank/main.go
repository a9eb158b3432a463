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
	"strconv"

	"github.com/wactor/wactor/abi"
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func init() {
	wactor.Handle("deposit", deposit)
	wactor.Handle("balance", balance)
	wactor.Handle("transfer", transfer)
	wactor.Handle("credit", credit)
}

func main() {}

// Keys of the account's state; each holds a CBOR integer.
const (
	keyBalance  = "balance"
	keySent     = "sent"
	keyReceived = "received"
)

func get(ctx *wactor.Context, key string) int64 {
	v, ok := ctx.Get(key)
	if !ok {
		return 0
	}
	n, _ := wactor.ValueOf(v).Int()
	return n
}

func set(ctx *wactor.Context, key string, n int64) { ctx.Set(key, abi.AppendInt(nil, n)) }

// amount reads a positive "amount" from the payload.
func amount(doc wactor.Doc) (int64, error) {
	n, ok := doc.Int("amount")
	if !ok || n <= 0 {
		return 0, wactor.NewError(wactor.CodeBadRequest, `need a positive integer "amount", as in {"amount": 10}`)
	}
	return n, nil
}

func reply(b int64) []byte { return wactor.NewMap().Int("balance", b).Encode() }

func deposit(ctx *wactor.Context, payload []byte) ([]byte, error) {
	return addFunds(ctx, payload, "")
}

// addFunds adds the payload's amount to the balance and, when count is not
// "", counts the operation under that key.
func addFunds(ctx *wactor.Context, payload []byte, count string) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	n, err := amount(doc)
	if err != nil {
		return nil, err
	}
	b := get(ctx, keyBalance) + n
	set(ctx, keyBalance, b)
	if count != "" {
		set(ctx, count, get(ctx, count)+1)
	}
	return reply(b), nil
}

func balance(ctx *wactor.Context, _ []byte) ([]byte, error) {
	return wactor.NewMap().
		Int("balance", get(ctx, keyBalance)).
		Int("sent", get(ctx, keySent)).
		Int("received", get(ctx, keyReceived)).
		Encode(), nil
}

func transfer(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	n, err := amount(doc)
	if err != nil {
		return nil, err
	}
	to, ok := doc.Text("to")
	if !ok || to == "" {
		return nil, wactor.NewError(wactor.CodeBadRequest, `transfer needs a text "to", the id of the receiving account`)
	}
	if "account/"+to == ctx.Self() {
		return nil, wactor.NewError(wactor.CodeBadRequest, "cannot transfer to the same account")
	}
	b := get(ctx, keyBalance)
	if b < n {
		return nil, wactor.NewError("insufficient_funds",
			"balance "+strconv.FormatInt(b, 10)+" is less than "+strconv.FormatInt(n, 10))
	}
	if err := ctx.Tell("account/"+to, "credit", wactor.NewMap().Int("amount", n).Encode()); err != nil {
		return nil, err
	}
	set(ctx, keyBalance, b-n)
	set(ctx, keySent, get(ctx, keySent)+1)
	return reply(b - n), nil
}

func credit(ctx *wactor.Context, payload []byte) ([]byte, error) {
	return addFunds(ctx, payload, keyReceived)
}
