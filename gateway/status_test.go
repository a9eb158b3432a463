package gateway

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wactor/wactor/abi"
)

func TestStatusOf(t *testing.T) {
	for code, status := range map[string]int{
		abi.CodeBadRequest:      http.StatusBadRequest,
		abi.CodeUnknownType:     http.StatusNotFound,
		abi.CodeUnknownMethod:   http.StatusNotFound,
		abi.CodeTooLarge:        http.StatusRequestEntityTooLarge,
		abi.CodeMailboxFull:     http.StatusTooManyRequests,
		abi.CodeTimeout:         http.StatusGatewayTimeout,
		abi.CodeTurnTimeout:     http.StatusInternalServerError,
		abi.CodeMemoryExhausted: http.StatusInternalServerError,
		abi.CodeTrapped:         http.StatusInternalServerError,
		abi.CodeBadReply:        http.StatusInternalServerError,
		abi.CodeDeadlock:        http.StatusLoopDetected,
		abi.CodeUnavailable:     http.StatusServiceUnavailable,
		abi.CodeUnauthorized:    http.StatusUnauthorized,
		"insufficient_funds":    http.StatusUnprocessableEntity,
		"refused":               http.StatusUnprocessableEntity,
	} {
		assert.Equal(t, status, statusOf(code), code)
	}
}

func TestReplyFormat(t *testing.T) {
	tests := []struct {
		accept []string
		def    format
		want   format
		ok     bool
	}{
		{nil, formatJSON, formatJSON, true},
		{nil, formatCBOR, formatCBOR, true},
		{[]string{"*/*"}, formatCBOR, formatCBOR, true},
		{[]string{"application/cbor"}, formatJSON, formatCBOR, true},
		{[]string{"application/json"}, formatCBOR, formatJSON, true},
		{[]string{"application/json;q=0.5, application/cbor"}, formatJSON, formatCBOR, true},
		{[]string{"application/json", "application/cbor;q=0.9"}, formatCBOR, formatJSON, true},
		{[]string{"application/*;q=0.2, application/cbor;q=0"}, formatCBOR, formatJSON, true},
		{[]string{"text/html, application/xhtml+xml, */*;q=0.8"}, formatCBOR, formatCBOR, true},
		{[]string{"application/cbor;q=0, */*"}, formatCBOR, formatJSON, true},
		{[]string{"text/html"}, formatJSON, 0, false},
		{[]string{"application/json;q=0"}, formatJSON, 0, false},
		{[]string{"garbage;;;, application/cbor"}, formatJSON, formatCBOR, true},
	}
	for _, tt := range tests {
		got, err := replyFormat(tt.accept, tt.def)
		if !tt.ok {
			assert.Error(t, err, "%q", tt.accept)
			continue
		}
		assert.NoError(t, err, "%q", tt.accept)
		assert.Equal(t, tt.want, got, "%q", tt.accept)
	}
}

func TestRequestFormat(t *testing.T) {
	for ct, want := range map[string]format{
		"":                                  formatJSON,
		"application/json":                  formatJSON,
		"Application/JSON; charset=utf-8":   formatJSON,
		"application/merge-patch+json":      formatJSON,
		"application/cbor":                  formatCBOR,
		"application/vnd.example+cbor":      formatCBOR,
		"application/x-www-form-urlencoded": formatJSON, // what curl -d sends
	} {
		got, err := requestFormat(ct)
		assert.NoError(t, err, ct)
		assert.Equal(t, want, got, ct)
	}
	for _, ct := range []string{"text/plain", "multipart/form-data", "application/cbor-seq", ";;"} {
		_, err := requestFormat(ct)
		assert.Error(t, err, ct)
	}
}

func TestHeaders(t *testing.T) {
	h := http.Header{}
	key, err := idempotencyKey(h)
	assert.NoError(t, err)
	assert.Empty(t, key)
	for in, want := range map[string]string{"abc-123": "abc-123", `"quoted-key"`: "quoted-key"} {
		h.Set("Idempotency-Key", in)
		key, err = idempotencyKey(h)
		assert.NoError(t, err)
		assert.Equal(t, want, key)
	}
	for _, bad := range []string{"", `""`, "a\tb", "a b", "k\u00e9y", string(make([]byte, 201))} {
		h.Set("Idempotency-Key", bad)
		_, err = idempotencyKey(h)
		assert.Error(t, err, "%q", bad)
	}

	for in, want := range map[string]bool{
		"respond-async": true, "Respond-Async": true, "wait=10, respond-async": true,
		"respond-async; foo=bar": true, "return=minimal": false, "": false,
	} {
		assert.Equal(t, want, prefersAsync(http.Header{"Prefer": {in}}), in)
	}
}
