package gateway

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
)

// format is a body format the gateway speaks.
type format int

const (
	formatJSON format = iota
	formatCBOR
)

const (
	contentTypeJSON = "application/json"
	contentTypeCBOR = "application/cbor"
)

// The values of a Content-Type header of each format, shared by all
// replies (see Gateway.call).
var (
	contentTypeJSONHeader = []string{contentTypeJSON}
	contentTypeCBORHeader = []string{contentTypeCBOR}
)

// contentTypeHeader is contentType as a header's values, shared: never
// change it.
func (f format) contentTypeHeader() []string {
	if f == formatCBOR {
		return contentTypeCBORHeader
	}
	return contentTypeJSONHeader
}

func (f format) contentType() string {
	if f == formatCBOR {
		return contentTypeCBOR
	}
	return contentTypeJSON
}

// httpError is an *abi.Error that needs an HTTP status other than the one
// its code maps to (415, 405, 404 for routes, 406).
type httpError struct {
	status int
	err    *abi.Error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func statusError(status int, code, msg string) error {
	return &httpError{status: status, err: abi.NewError(code, msg)}
}

// requestFormat reads the Content-Type of a request body: absent or JSON
// (application/json or any +json type) means JSON; application/cbor or
// any +cbor type means CBOR. application/x-www-form-urlencoded, which
// curl -d sends unless told otherwise, is read as JSON too: no actor takes
// form data, and refusing the most common first try helps nobody. Anything
// else is 415.
func requestFormat(contentType string) (format, error) {
	switch contentType {
	case contentTypeJSON: // the common cases, without parsing (which allocates)
		return formatJSON, nil
	case contentTypeCBOR:
		return formatCBOR, nil
	}
	if strings.TrimSpace(contentType) == "" {
		return formatJSON, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil {
		switch {
		case mt == contentTypeJSON || strings.HasSuffix(mt, "+json") || mt == "application/x-www-form-urlencoded":
			return formatJSON, nil
		case mt == contentTypeCBOR || strings.HasSuffix(mt, "+cbor"):
			return formatCBOR, nil
		}
	}
	return 0, statusError(http.StatusUnsupportedMediaType, abi.CodeBadRequest,
		"Content-Type "+strconv.Quote(contentType)+" is not supported; send application/json or application/cbor")
}

// replyFormat chooses the reply's format from the Accept header values:
// the acceptable format with the highest quality, the request's format
// when they tie or when there is no Accept header. 406 when neither JSON
// nor CBOR is acceptable.
func replyFormat(accept []string, def format) (format, error) {
	if len(accept) == 0 {
		return def, nil
	}
	if len(accept) == 1 {
		switch accept[0] { // the common cases, without parsing (which allocates)
		case "*/*":
			return def, nil
		case contentTypeJSON:
			return formatJSON, nil
		case contentTypeCBOR:
			return formatCBOR, nil
		}
	}
	q := [2]float64{}          // by format
	specific := [2]int{-1, -1} // how specific the range that set q was
	for _, value := range accept {
		for part := range strings.SplitSeq(value, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			quality := 1.0
			if s, ok := params["q"]; ok {
				if quality, err = strconv.ParseFloat(s, 64); err != nil || quality < 0 || quality > 1 {
					continue
				}
			}
			for f, ct := range [2]string{contentTypeJSON, contentTypeCBOR} {
				s := -1
				switch {
				case mt == ct:
					s = 2
				case mt == "application/*":
					s = 1
				case mt == "*/*":
					s = 0
				}
				if s > specific[f] {
					specific[f], q[f] = s, quality
				}
			}
		}
	}
	other := 1 - def
	switch {
	case q[def] > 0 && q[def] >= q[other]:
		return def, nil
	case q[other] > 0:
		return other, nil
	}
	return 0, statusError(http.StatusNotAcceptable, abi.CodeBadRequest,
		"Accept "+strconv.Quote(strings.Join(accept, ", "))+" allows neither application/json nor application/cbor")
}

// keyOptions returns the host options of the Idempotency-Key header:
// none when it is absent.
func keyOptions(h http.Header) ([]host.CallOption, error) {
	key, err := idempotencyKey(h)
	if err != nil || key == "" {
		return nil, err
	}
	return []host.CallOption{host.IdempotencyKey(key)}, nil
}

// idempotencyKey returns the Idempotency-Key header, "" when absent. The
// value may be quoted, as the IETF draft writes it ("key"); the quotes are
// not part of the key.
func idempotencyKey(h http.Header) (string, error) {
	values := h.Values("Idempotency-Key")
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", abi.NewError(abi.CodeBadRequest, "give at most one Idempotency-Key header")
	}
	key := values[0]
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1]
	}
	if key == "" {
		return "", abi.NewError(abi.CodeBadRequest, "the Idempotency-Key header is empty")
	}
	if len(key) > host.MaxIdempotencyKeyLen {
		return "", abi.NewError(abi.CodeBadRequest, "the Idempotency-Key is "+strconv.Itoa(len(key))+
			" characters long; at most "+strconv.Itoa(host.MaxIdempotencyKeyLen)+" are allowed")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x21 || c > 0x7e {
			return "", abi.NewError(abi.CodeBadRequest, "the Idempotency-Key must be printable ASCII without spaces; byte "+strconv.Itoa(i)+" is not")
		}
	}
	return key, nil
}

// prefersAsync reports whether a Prefer header asks for respond-async
// (RFC 7240).
func prefersAsync(h http.Header) bool {
	for _, value := range h.Values("Prefer") {
		for pref := range strings.SplitSeq(value, ",") {
			name, _, _ := strings.Cut(pref, ";")
			name, _, _ = strings.Cut(name, "=")
			if strings.EqualFold(strings.TrimSpace(name), "respond-async") {
				return true
			}
		}
	}
	return false
}
