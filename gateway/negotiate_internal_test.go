package gateway

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The values requestFormat and replyFormat recognise without parsing get
// the answer the parsed path gives the same value written otherwise.
func TestFormatFastPathsAgreeWithParsing(t *testing.T) {
	for _, c := range []struct{ quick, parsed string }{
		{"application/json", "application/json; charset=utf-8"},
		{"application/cbor", "Application/CBOR "},
	} {
		want, werr := requestFormat(c.parsed)
		got, err := requestFormat(c.quick)
		assert.NoError(t, werr, c.parsed)
		assert.NoError(t, err, c.quick)
		assert.Equal(t, want, got, c.quick)
	}
	for _, def := range []format{formatJSON, formatCBOR} {
		for _, c := range []struct{ quick, parsed string }{
			{"*/*", "*/*;q=1"},
			{"application/json", "application/json;q=1"},
			{"application/cbor", "application/cbor;q=1"},
		} {
			want, werr := replyFormat([]string{c.parsed}, def)
			got, err := replyFormat([]string{c.quick}, def)
			assert.NoError(t, werr, c.parsed)
			assert.NoError(t, err, c.quick)
			assert.Equal(t, want, got, "%s with the request in format %d", c.quick, def)
		}
	}
}
