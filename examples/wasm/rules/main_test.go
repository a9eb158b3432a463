package main

import (
	"strconv"
	"testing"

	"github.com/wactor/wactor/abi/ruletest"
	"github.com/wactor/wactor/guest-sdk/go/wactortest"
)

// TestRulesNatively runs the table of package ruletest against the native
// kit; host/rules_test.go runs the same table against the real host.
func TestRulesNatively(t *testing.T) {
	for i, sc := range ruletest.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			h := wactortest.New(t, "rules/s"+strconv.Itoa(i))
			for j, turn := range sc.Turns {
				_, err := h.Call("run", turn.Payload())
				if err := turn.Check(err); err != nil {
					t.Errorf("turn %d: %v", j, err)
				}
			}
		})
	}
}
