package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/wactor/wactor/abi"
)

// This file converts payloads at the HTTP edge: JSON request bodies to CBOR
// payloads, and CBOR replies back to JSON. docs/http.md describes the
// mapping for users; keep the two in step.

// maxDepth bounds the nesting of arrays and objects in a JSON body, and
// (with a little room for tags) in a reply converted to JSON.
const maxDepth = 512

// jsonSpace is JSON's white space.
const jsonSpace = " \t\r\n"

// isJSONSpace reports whether c is in jsonSpace (without searching it:
// the quick conversion asks for every byte between tokens).
func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// onlyJSONSpace reports whether b is empty or all white space.
func onlyJSONSpace(b []byte) bool {
	for _, c := range b {
		if !isJSONSpace(c) {
			return false
		}
	}
	return true
}

// valueSep is what may stand between a token and the next value.
const valueSep = jsonSpace + ",:"

// maxBigIntBits bounds the integers that become JSON numbers: beyond it a
// decimal conversion costs more than a reply is worth.
const maxBigIntBits = 8192

var (
	// encMode writes payloads: floats always as float64 (every guest SDK
	// reads those; not all read half floats), integers beyond 64 bits as
	// bignums (tags 2 and 3).
	encMode = must(cbor.EncOptions{
		ShortestFloat: cbor.ShortestFloatNone,
		BigIntConvert: cbor.BigIntConvertShortest,
		IndefLength:   cbor.IndefLengthForbidden,
	}.EncMode())

	// decMode reads replies into Go values that map one to one onto JSON.
	decMode = must(cbor.DecOptions{
		MaxNestedLevels:      maxDepth + 8,
		MaxArrayElements:     math.MaxInt32,
		MaxMapPairs:          math.MaxInt32,
		IntDec:               cbor.IntDecConvertNone,
		BigIntDec:            cbor.BigIntDecodePointer,
		MapKeyByteString:     cbor.MapKeyByteStringAllowed,
		UnrecognizedTagToAny: cbor.UnrecognizedTagContentToAny,
		TimeTagToAny:         cbor.TimeTagToRFC3339Nano,
	}.DecMode())
)

func must[T any](v T, err error) T {
	if err != nil {
		panic("gateway: " + err.Error()) // the options above are constants
	}
	return v
}

// jsonToCBOR converts one JSON value to one CBOR item. Integer literals
// stay integers (beyond 64 bits, bignums), other numbers become float64,
// objects become maps with text keys in the order given. Errors are
// *abi.Error with code bad_request and say where the problem is.
func jsonToCBOR(body []byte) ([]byte, error) {
	if !utf8.Valid(body) {
		off := 0
		for off < len(body) {
			r, size := utf8.DecodeRune(body[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return nil, syntaxError(body, int64(off), "the body is not valid UTF-8")
	}
	if out, ok := quickJSONToCBOR(body); ok {
		return out, nil
	}
	return tokensToCBOR(body)
}

// tokensToCBOR is jsonToCBOR for every body: it reads body with
// encoding/json's tokenizer, and words every error.
func tokensToCBOR(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	c := &jsonReader{dec: dec, body: body}
	v, err := c.value(0)
	if err != nil {
		return nil, err
	}
	off := c.skip(dec.InputOffset(), jsonSpace)
	if _, err := dec.Token(); err == nil {
		return nil, syntaxError(body, off, "unexpected data after the JSON value")
	} else if err != io.EOF {
		return nil, c.fail(err)
	}
	return appendCBOR(nil, v)
}

// jsonReader reads JSON tokens into values that encMode writes as wanted.
type jsonReader struct {
	dec  *json.Decoder
	body []byte
}

func (c *jsonReader) token() (json.Token, error) {
	tok, err := c.dec.Token()
	if err != nil {
		return nil, c.fail(err)
	}
	return tok, nil
}

func (c *jsonReader) fail(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// Token's offsets are not all measured alike; the validating scan
		// of Unmarshal finds the same first error and reports the offset
		// just past the offending byte.
		var raw json.RawMessage
		var full *json.SyntaxError
		if errors.As(json.Unmarshal(c.body, &raw), &full) {
			se = full
		}
		return syntaxError(c.body, max(se.Offset-1, 0), strings.TrimPrefix(se.Error(), "json: "))
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return syntaxError(c.body, int64(len(c.body)), "unexpected end of JSON input")
	}
	return syntaxError(c.body, c.dec.InputOffset(), err.Error())
}

func (c *jsonReader) value(depth int) (any, error) {
	start := c.dec.InputOffset()
	tok, err := c.token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, syntaxError(c.body, c.skip(start, valueSep), fmt.Sprintf("arrays and objects nest deeper than %d levels", maxDepth))
		}
		if t == '[' {
			arr := []any{}
			for c.dec.More() {
				v, err := c.value(depth + 1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := c.token() // ']'
			return arr, err
		}
		// '{': Token reports a stray '}' or ']' itself.
		obj := jsonObject{}
		seen := map[string]bool{}
		for c.dec.More() {
			keyAt := c.skip(c.dec.InputOffset(), valueSep)
			k, err := c.token()
			if err != nil {
				return nil, err
			}
			key := k.(string) // Token allows nothing else here
			if seen[key] {
				return nil, syntaxError(c.body, keyAt, "duplicate object key "+strconv.Quote(key))
			}
			seen[key] = true
			v, err := c.value(depth + 1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, jsonMember{key, v})
		}
		_, err := c.token() // '}'
		return obj, err
	case json.Number:
		return c.number(t, start)
	default: // string, bool, nil
		return t, nil
	}
}

// number converts a JSON number: an integer literal (no fraction, no
// exponent) to an integer, anything else to a float64.
func (c *jsonReader) number(n json.Number, start int64) (any, error) {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u, nil
		}
		b, ok := new(big.Int).SetString(s, 10)
		if !ok || b.BitLen() > maxBigIntBits {
			return nil, syntaxError(c.body, c.skip(start, valueSep), fmt.Sprintf("integer %.20s... is longer than %d bits", s, maxBigIntBits))
		}
		return b, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, syntaxError(c.body, c.skip(start, valueSep), "number "+s+" is out of the range of a 64-bit float")
	}
	return f, nil
}

// skip moves off past the bytes in set: white space and, before a value,
// the separators that InputOffset counts before it.
func (c *jsonReader) skip(off int64, set string) int64 {
	for off < int64(len(c.body)) && strings.IndexByte(set, c.body[off]) >= 0 {
		off++
	}
	return off
}

// syntaxError describes a problem at byte off of body as a bad_request
// that gives the line, column and byte offset.
func syntaxError(body []byte, off int64, msg string) error {
	off = min(max(off, 0), int64(len(body)))
	line := 1 + bytes.Count(body[:off], []byte{'\n'})
	col := 1 + utf8.RuneCount(body[bytes.LastIndexByte(body[:off], '\n')+1:off])
	return abi.NewError(abi.CodeBadRequest, fmt.Sprintf("malformed JSON body at line %d, column %d (byte %d): %s", line, col, off, msg))
}

// jsonObject is a JSON object with its members in order; it becomes a
// CBOR map with text keys in that order.
type jsonObject []jsonMember

type jsonMember struct {
	key   string
	value any
}

// appendCBOR writes a value read by jsonReader. Containers are written
// here; scalars by encMode.
func appendCBOR(b []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case jsonObject:
		b = appendHead(b, 5, uint64(len(v)))
		for _, m := range v {
			b = appendHead(b, 3, uint64(len(m.key)))
			b = append(b, m.key...)
			if b, err = appendCBOR(b, m.value); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []any:
		b = appendHead(b, 4, uint64(len(v)))
		for _, e := range v {
			if b, err = appendCBOR(b, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	item, err := encMode.Marshal(v)
	if err != nil {
		return nil, abi.NewError(abi.CodeBadRequest, "converting the JSON body to CBOR: "+err.Error())
	}
	return append(b, item...), nil
}

// appendHead appends the head of a CBOR item of the given major type and
// argument, in its shortest form.
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= math.MaxUint8:
		return append(b, m|24, byte(n))
	case n <= math.MaxUint16:
		return append(b, m|25, byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return append(b, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// cborToJSON converts one CBOR item (a reply) to JSON. See docs/http.md for
// the mapping. Errors are *abi.Error with code bad_reply.
func cborToJSON(item []byte) ([]byte, error) {
	if out, ok := quickCBORToJSON(item); ok {
		return out, nil
	}
	defer slowConversions.release(slowConversions.acquire(len(item)))
	var v any
	if err := decMode.Unmarshal(item, &v); err != nil {
		return nil, abi.NewError(abi.CodeBadReply, "the reply is not CBOR that converts to JSON: "+err.Error())
	}
	b, err := appendJSON(nil, v)
	if err != nil {
		return nil, abi.NewError(abi.CodeBadReply, "the reply cannot be written as JSON: "+err.Error())
	}
	return b, nil
}

func appendJSON(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case *big.Int:
		if v.BitLen() > maxBigIntBits {
			return nil, fmt.Errorf("an integer of %d bits is longer than the %d bits allowed in JSON", v.BitLen(), maxBigIntBits)
		}
		return v.Append(b, 10), nil
	case float64:
		return appendFloat(b, v), nil
	case float32:
		return appendFloat(b, float64(v)), nil
	case string:
		return appendString(b, v), nil
	case []byte:
		return appendBase64(b, v), nil
	case cbor.ByteString:
		return appendBase64(b, []byte(v)), nil
	case cbor.SimpleValue:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[any]any:
		return appendObject(b, v)
	}
	return nil, fmt.Errorf("unexpected CBOR value of Go type %T", v)
}

// appendObject writes a map as an object. Text keys stay as they are and
// integer keys become their decimal text; members come sorted by key, as
// CBOR decoding does not keep their order.
func appendObject(b []byte, m map[any]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	vals := make(map[string]any, len(m))
	for k, v := range m {
		var s string
		switch k := k.(type) {
		case string:
			s = k
		case uint64:
			s = strconv.FormatUint(k, 10)
		case int64:
			s = strconv.FormatInt(k, 10)
		case *big.Int:
			if k.BitLen() > maxBigIntBits {
				return nil, fmt.Errorf("a map key of %d bits is longer than the %d bits allowed in JSON", k.BitLen(), maxBigIntBits)
			}
			s = k.String()
		default:
			return nil, fmt.Errorf("a map key of Go type %T is neither text nor an integer", k)
		}
		if _, dup := vals[s]; dup {
			return nil, fmt.Errorf("two map keys both become %q", s)
		}
		keys = append(keys, s)
		vals[s] = v
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		var err error
		if b, err = appendJSON(b, vals[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendFloat writes a float so that it reads back as a float: with a
// fraction or an exponent (1.0, not 1). NaN and the infinities, which JSON
// lacks, become the strings "NaN", "Infinity" and "-Infinity".
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	start := len(b)
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// 1e-07 -> 1e-7, as encoding/json writes it.
		if n := len(b); n-start >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	if !bytes.ContainsRune(b[start:], '.') {
		b = append(b, ".0"...)
	}
	return b
}

// appendBase64 writes a byte string as a string in standard base64 with
// padding, as encoding/json writes []byte.
func appendBase64(b, p []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes s (valid UTF-8) as a JSON string. Unlike
// encoding/json it leaves <, > and & alone: the body is not HTML.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' { // valid JSON, but not valid JavaScript
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// quickJSONToCBOR converts, in one pass and without the tokenizer's
// allocations, the plain bodies that most requests send: objects, arrays,
// strings without escapes, integers of up to 18 digits, true, false and
// null. It reports false for anything else, valid or not, and jsonToCBOR
// then takes the general path, which also words every error; so what a
// body converts to, or fails with, never depends on which path took it.
// body must be valid UTF-8.
func quickJSONToCBOR(body []byte) ([]byte, bool) {
	q := quickConv{in: body, out: make([]byte, 0, len(body))}
	if !q.value(0) {
		return nil, false
	}
	q.space()
	return q.out, q.i == len(q.in)
}

// quickConv is the state of quickJSONToCBOR: the input, how far it has
// read, and the CBOR written so far.
type quickConv struct {
	in  []byte
	i   int
	out []byte
}

// quickMaxMembers bounds the members of an object that the quick path
// takes: it finds duplicate keys by comparing each with those before it.
const quickMaxMembers = 32

func (q *quickConv) space() {
	for q.i < len(q.in) && isJSONSpace(q.in[q.i]) {
		q.i++
	}
}

func (q *quickConv) value(depth int) bool {
	q.space()
	if q.i == len(q.in) {
		return false
	}
	switch c := q.in[q.i]; {
	case c == '{' || c == '[':
		return depth < maxDepth && q.container(depth, c)
	case c == '"':
		_, ok := q.text()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		return q.integer()
	}
	for _, lit := range [...]struct {
		word string
		cbor byte
	}{{"true", 0xf5}, {"false", 0xf4}, {"null", 0xf6}} {
		if bytes.HasPrefix(q.in[q.i:], []byte(lit.word)) {
			q.i += len(lit.word)
			q.out = append(q.out, lit.cbor)
			return true
		}
	}
	return false
}

// container converts an object (open '{') or an array (open '['). The
// head is written once the members are counted: one byte is kept for it,
// and widened when there are 24 or more.
func (q *quickConv) container(depth int, open byte) bool {
	major, closing := byte(4), byte(']')
	if open == '{' {
		major, closing = 5, '}'
	}
	q.i++
	at := len(q.out)
	q.out = append(q.out, 0)
	var keys [quickMaxMembers][2]int // the members' keys, as spans of out
	n := 0
	q.space()
	if q.i < len(q.in) && q.in[q.i] == closing {
		q.i++
	} else {
		for {
			if open == '{' {
				q.space()
				key, ok := q.text()
				if !ok || n == quickMaxMembers {
					return false
				}
				for _, k := range keys[:n] {
					if bytes.Equal(q.out[k[0]:k[1]], q.out[key[0]:key[1]]) {
						return false // a duplicate: the general path words it
					}
				}
				keys[n] = key
				q.space()
				if q.i == len(q.in) || q.in[q.i] != ':' {
					return false
				}
				q.i++
			}
			if !q.value(depth + 1) {
				return false
			}
			n++
			q.space()
			if q.i == len(q.in) {
				return false
			}
			c := q.in[q.i]
			q.i++
			if c == closing {
				break
			}
			if c != ',' {
				return false
			}
		}
	}
	var hb [9]byte
	head := appendHead(hb[:0], major, uint64(n))
	q.out[at] = head[0]
	if len(head) > 1 {
		q.out = slices.Insert(q.out, at+1, head[1:]...)
	}
	return true
}

// text converts a string without escapes or control characters, and
// returns the span of its bytes in out.
func (q *quickConv) text() ([2]int, bool) {
	if q.i == len(q.in) || q.in[q.i] != '"' {
		return [2]int{}, false
	}
	start := q.i + 1
	end := start
	for ; end < len(q.in) && q.in[end] != '"'; end++ {
		if c := q.in[end]; c < 0x20 || c == '\\' {
			return [2]int{}, false
		}
	}
	if end == len(q.in) {
		return [2]int{}, false
	}
	q.out = appendHead(q.out, 3, uint64(end-start))
	at := len(q.out)
	q.out = append(q.out, q.in[start:end]...)
	q.i = end + 1
	return [2]int{at, len(q.out)}, true
}

// integer converts an integer literal of at most 18 digits, which fits in
// 63 bits; a fraction, an exponent or anything else glued to it is left to
// the general path.
func (q *quickConv) integer() bool {
	neg := q.in[q.i] == '-'
	if neg {
		q.i++
	}
	start := q.i
	var n uint64
	for q.i < len(q.in) && q.in[q.i] >= '0' && q.in[q.i] <= '9' {
		n = n*10 + uint64(q.in[q.i]-'0')
		q.i++
	}
	digits := q.i - start
	if digits == 0 || digits > 18 || digits > 1 && q.in[start] == '0' {
		return false
	}
	if q.i < len(q.in) && strings.IndexByte(valueSep+"]}", q.in[q.i]) < 0 {
		return false
	}
	switch {
	case !neg || n == 0:
		q.out = appendHead(q.out, 0, n) // -0 is 0, as on the general path
	default:
		q.out = appendHead(q.out, 1, n-1)
	}
	return true
}

// quickCBORToJSON converts, in one pass, the plain replies most turns
// give: maps whose text keys come sorted, arrays, integers of 64 bits,
// text of printable ASCII needing no escape, true, false and null. It
// reports false for anything else, and cborToJSON then takes the general
// path: what a reply converts to never depends on which path took it.
func quickCBORToJSON(item []byte) ([]byte, bool) {
	q := quickReply{in: item, out: make([]byte, 0, 2*len(item)+8)}
	if !q.item(0) || q.i != len(q.in) {
		return nil, false
	}
	return q.out, true
}

// quickReply is the state of quickCBORToJSON.
type quickReply struct {
	in  []byte
	i   int
	out []byte
}

// head reads an item's head with a definite argument.
func (q *quickReply) head() (major byte, arg uint64, ok bool) {
	if q.i == len(q.in) {
		return 0, 0, false
	}
	b := q.in[q.i]
	q.i++
	major, info := b>>5, b&0x1f
	if info < 24 {
		return major, uint64(info), true
	}
	if info > 27 {
		return 0, 0, false // reserved, or indefinite length
	}
	n := 1 << (info - 24)
	if len(q.in)-q.i < n {
		return 0, 0, false
	}
	for _, c := range q.in[q.i : q.i+n] {
		arg = arg<<8 | uint64(c)
	}
	q.i += n
	return major, arg, true
}

// text reads a text string of printable ASCII without '"' or '\\',
// which JSON writes as it is.
func (q *quickReply) text() ([]byte, bool) {
	major, n, ok := q.head()
	if !ok || major != 3 || n > uint64(len(q.in)-q.i) {
		return nil, false
	}
	s := q.in[q.i : q.i+int(n)]
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return nil, false
		}
	}
	q.i += int(n)
	return s, true
}

func (q *quickReply) item(depth int) bool {
	if depth >= maxDepth {
		return false
	}
	at := q.i
	major, arg, ok := q.head()
	if !ok {
		return false
	}
	switch major {
	case 0:
		q.out = strconv.AppendUint(q.out, arg, 10)
	case 1:
		if arg > math.MaxInt64 {
			return false
		}
		q.out = strconv.AppendInt(q.out, -1-int64(arg), 10)
	case 3:
		q.i = at
		s, ok := q.text()
		if !ok {
			return false
		}
		q.out = append(append(append(q.out, '"'), s...), '"')
	case 4:
		if arg > uint64(len(q.in)-q.i) {
			return false // each element takes a byte at least
		}
		q.out = append(q.out, '[')
		for k := uint64(0); k < arg; k++ {
			if k > 0 {
				q.out = append(q.out, ',')
			}
			if !q.item(depth + 1) {
				return false
			}
		}
		q.out = append(q.out, ']')
	case 5:
		if arg > quickMaxMembers {
			return false
		}
		q.out = append(q.out, '{')
		var last []byte
		for k := uint64(0); k < arg; k++ {
			key, ok := q.text()
			// The general path writes members sorted by key: take only
			// maps whose keys already come so, hence no duplicates either.
			if !ok || k > 0 && bytes.Compare(last, key) >= 0 {
				return false
			}
			last = key
			if k > 0 {
				q.out = append(q.out, ',')
			}
			q.out = append(append(append(q.out, '"'), key...), '"', ':')
			if !q.item(depth + 1) {
				return false
			}
		}
		q.out = append(q.out, '}')
	case 7:
		switch {
		case at+1 != q.i: // a float, or a simple value in a second byte
			return false
		case arg == 20:
			q.out = append(q.out, "false"...)
		case arg == 21:
			q.out = append(q.out, "true"...)
		case arg == 22:
			q.out = append(q.out, "null"...)
		default:
			return false
		}
	default:
		return false // byte strings and tags
	}
	return true
}
