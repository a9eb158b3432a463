package wactor

import "testing"

func TestAllocInputReusesBufferOnlyAtTopLevel(t *testing.T) {
	a := allocInput(100)
	b := allocInput(50)
	if &a[0] != &b[0] {
		t.Fatal("top-level allocations should reuse one buffer")
	}
	if len(b) != 50 {
		t.Fatalf("len = %d, want 50", len(b))
	}
	c := allocInput(1000)
	if len(c) != 1000 {
		t.Fatalf("len = %d, want 1000", len(c))
	}

	// While a turn runs (a reentrant call arrives during an ask), the
	// running turn's payload lives in the shared buffer: hand out another.
	depth++
	defer func() { depth-- }()
	d := allocInput(10)
	if &d[0] == &c[0] {
		t.Fatal("a nested allocation must not reuse the running turn's buffer")
	}
}
