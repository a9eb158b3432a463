package meter

import "testing"

func TestHasCustomSection(t *testing.T) {
	custom := func(name string, body ...byte) []byte {
		payload := append([]byte{byte(len(name))}, name...)
		payload = append(payload, body...)
		return append([]byte{secCustom, byte(len(payload))}, payload...)
	}
	header := []byte("\x00asm\x01\x00\x00\x00")
	module := append(append(append([]byte{}, header...), custom("producers", 1, 2)...), custom("go:buildid", 'x')...)
	for _, c := range []struct {
		name string
		wasm []byte
		want bool
	}{
		{"go:buildid", module, true},
		{"producers", module, true},
		{"go:build", module, false},
		{"go:buildid", header, false},
		{"go:buildid", module[:len(module)-2], false}, // cut short
		{"go:buildid", []byte("not wasm"), false},
	} {
		if got := HasCustomSection(c.wasm, c.name); got != c.want {
			t.Errorf("HasCustomSection(%q) of %d bytes = %v, want %v", c.name, len(c.wasm), got, c.want)
		}
	}
}
