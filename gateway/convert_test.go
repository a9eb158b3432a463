package gateway

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

func TestJSONToCBOR(t *testing.T) {
	tests := []struct {
		name, json, cbor string
	}{
		{"small int", `7`, "07"},
		{"negative int", `-1`, "20"},
		{"minus zero int", `-0`, "00"},
		{"int64 max", `9223372036854775807`, "1b 7fffffffffffffff"},
		{"int64 min", `-9223372036854775808`, "3b 7fffffffffffffff"},
		{"uint64 max", `18446744073709551615`, "1b ffffffffffffffff"},
		{"most negative CBOR int", `-18446744073709551616`, "3b ffffffffffffffff"},
		{"2^64 is a bignum", `18446744073709551616`, "c2 49 010000000000000000"},
		{"-2^64-1 is a negative bignum", `-18446744073709551617`, "c3 49 010000000000000000"},
		{"float", `1.5`, "fb 3ff8000000000000"},
		{"integral float stays float", `1.0`, "fb 3ff0000000000000"},
		{"exponent makes a float", `1e3`, "fb 408f400000000000"},
		{"minus zero float", `-0.0`, "fb 8000000000000000"},
		{"tiny float", `5e-324`, "fb 0000000000000001"},
		{"text", `"hi"`, "62 6869"},
		{"unicode text", `"héllo 😀"`, "6b 68c3a96c6c6f20f09f9880"},
		{"escapes", `"\u00e9\ud83d\ude00\n"`, "67 c3a9f09f98800a"},
		{"true false null", `[true,false,null]`, "83 f5 f4 f6"},
		{"empty object", `{}`, "a0"},
		{"empty array", ` [ ] `, "80"},
		{"object keeps key order", `{"b":1,"a":[2]}`, "a2 6162 01 6161 81 02"},
		{"nested", `{"a":{"b":{"c":[1,{"d":null}]}}}`, "a1 6161 a1 6162 a1 6163 82 01 a1 6164 f6"},
		{"24 members need a longer head", `[` + strings.Repeat("0,", 23) + `0]`, "98 18" + strings.Repeat("00", 24)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jsonToCBOR([]byte(tt.json))
			require.NoError(t, err)
			assert.Equal(t, hex.EncodeToString(unhex(t, tt.cbor)), hex.EncodeToString(got))
			require.NoError(t, abi.WellFormed(got))
		})
	}
}

func TestJSONToCBORErrors(t *testing.T) {
	tests := []struct {
		name, json string
		want       []string // substrings of the message
	}{
		{"trailing comma", `{"a":1,}`, []string{"line 1, column 8 (byte 7)", "invalid character '}'"}},
		{"second line", "{\n  \"a\": tru\n}", []string{"line 2, column"}},
		{"truncated", `{"a":[1,`, []string{"unexpected end of JSON input", "byte 8"}},
		{"nothing", ` `, []string{"unexpected end of JSON input"}},
		{"trailing data", `{"a":1} {}`, []string{"unexpected data after the JSON value", "column 9"}},
		{"trailing garbage", `1 x`, []string{"invalid character 'x'"}},
		{"duplicate key", `{"a":1, "a":2}`, []string{`duplicate object key "a"`, "column 9"}},
		{"number out of range", `[1e400]`, []string{"out of the range", "column 2"}},
		{"huge integer", strings.Repeat("9", 3000), []string{"longer than 8192 bits"}},
		{"too deep", strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), []string{"deeper than 512"}},
		{"bad utf-8", "\"ab\xffc\"", []string{"not valid UTF-8", "byte 3"}},
		{"single quotes", `{'a':1}`, []string{"column 2"}},
		{"mismatched", `[1}`, []string{"invalid character '}'"}},
		{"bare word", `hello`, []string{"invalid character 'h'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jsonToCBOR([]byte(tt.json))
			var e *abi.Error
			require.True(t, errors.As(err, &e), "err = %v", err)
			assert.Equal(t, abi.CodeBadRequest, e.Code)
			for _, w := range tt.want {
				assert.Contains(t, e.Message, w)
			}
		})
	}
	// The deepest nesting allowed converts, and back.
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	c, err := jsonToCBOR([]byte(deep))
	require.NoError(t, err)
	j, err := cborToJSON(c)
	require.NoError(t, err)
	assert.Equal(t, deep, strings.TrimSpace(string(j)))
}

func TestCBORToJSON(t *testing.T) {
	tests := []struct {
		name, cbor, json string
	}{
		{"map", "a1 6161 01", `{"a":1}`},
		{"keys sorted", "a2 6162 01 6161 02", `{"a":2,"b":1}`},
		{"integer keys", "a2 02 6162 01 6161", `{"1":"a","2":"b"}`},
		{"negative key", "a1 20 f5", `{"-1":true}`},
		{"uint64 max", "1b ffffffffffffffff", `18446744073709551615`},
		{"most negative CBOR int", "3b ffffffffffffffff", `-18446744073709551616`},
		{"int64 min", "3b 7fffffffffffffff", `-9223372036854775808`},
		{"bignum", "c2 49 010000000000000000", `18446744073709551616`},
		{"negative bignum", "c3 49 010000000000000000", `-18446744073709551617`},
		{"half float", "f9 3c00", `1.0`},
		{"single float", "fa 3fc00000", `1.5`},
		{"double", "fb 3fb999999999999a", `0.1`},
		{"large double", "fb 7e37e43c8800759c", `1e+300`},
		{"small double", "fb 3e7ad7f29abcaf48", `1e-7`},
		{"minus zero", "fb 8000000000000000", `-0.0`},
		{"2^53+1 as float is not exact", "fb 4340000000000000", `9007199254740992.0`},
		{"2^53+1 as int is exact", "1b 0020000000000001", `9007199254740993`},
		{"NaN", "f9 7e00", `"NaN"`},
		{"infinity", "f9 7c00", `"Infinity"`},
		{"minus infinity", "f9 fc00", `"-Infinity"`},
		{"bytes", "43 010203", `"AQID"`},
		{"empty bytes", "40", `""`},
		{"text", "6b 68c3a96c6c6f20f09f9880", `"héllo 😀"`},
		{"escapes", "68 3c263e0a22015c09", `"<&>\n\"\u0001\\\t"`},
		{"line separator", "63 e280a8", `"\u2028"`},
		{"null undefined", "82 f6 f7", `[null,null]`},
		{"simple value", "e0", `0`},
		{"indefinite array", "9f 01 02 ff", `[1,2]`},
		{"indefinite text", "7f 6161 6162 ff", `"ab"`},
		{"indefinite map", "bf 6161 01 ff", `{"a":1}`},
		{"tag gives its content", "d8 20 6a 687474703a2f2f782e79", `"http://x.y"`},
		{"tag around map", "d9 d9f7 a1 6161 01", `{"a":1}`},
		{"date tag", "c0 74 323031332d30332d32315432303a30343a30305a", `"2013-03-21T20:04:00Z"`},
		{"epoch tag", "c1 1a 514b67b0", `"2013-03-21T20:04:00Z"`},
		{"nested", "a1 6161 a1 6162 82 01 a0", `{"a":{"b":[1,{}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cborToJSON(unhex(t, tt.cbor))
			require.NoError(t, err)
			assert.Equal(t, tt.json, string(got))
			assert.True(t, json.Valid(got))
		})
	}
}

func TestCBORToJSONErrors(t *testing.T) {
	tests := []struct {
		name, cbor, want string
	}{
		{"byte string key", "a1 41 00 01", "neither text nor an integer"},
		{"float key", "a1 f9 3c00 01", "neither text nor an integer"},
		{"keys collide", "a2 01 00 6131 00", `both become "1"`},
		{"truncated", "82 01", "unexpected EOF"},
		{"break alone", "ff", ""},
		{"trailing bytes", "01 02", "extraneous data"},
		{"invalid utf-8", "62 ff41", "UTF-8"},
		{"empty", "", "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cborToJSON(unhex(t, tt.cbor))
			var e *abi.Error
			require.True(t, errors.As(err, &e), "err = %v", err)
			assert.Equal(t, abi.CodeBadReply, e.Code)
			assert.Contains(t, e.Message, tt.want)
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct{ in, out string }{
		{`{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{`1.0`, `1.0`},
		{`1e3`, `1000.0`},
		{`1E-7`, `1e-7`},
		{`-0.0`, `-0.0`},
		{`-0`, `0`},
		{`123456789012345678901234567890`, `123456789012345678901234567890`},
		{`-123456789012345678901234567890`, `-123456789012345678901234567890`},
		{`9007199254740993`, `9007199254740993`},
		{`"\u00e9\ud83d\ude00"`, `"é😀"`},
		{`"<&>"`, `"<&>"`},
		{` {"a" : [ 1 , 2.5 , "x" , null , true , {"z":{}} ] } `, `{"a":[1,2.5,"x",null,true,{"z":{}}]}`},
	}
	for _, tt := range tests {
		c, err := jsonToCBOR([]byte(tt.in))
		require.NoError(t, err, tt.in)
		j, err := cborToJSON(c)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.out, string(j), tt.in)
	}
}

// FuzzJSONToCBORToJSON checks that every body the gateway accepts is JSON,
// converts back, and comes back the same after a second round trip.
func FuzzJSONToCBORToJSON(f *testing.F) {
	for _, s := range []string{
		`{"n":7}`, `[1,2.5,-3,"x",null,true,false]`, `18446744073709551616`, `-0.0`, `1e308`,
		`{"a":{"b":[{}]}}`, `"\u2028\ud83d\ude00<>"`, `{"a":1,"a":2}`, `[`, `1 2`, "\"\xff\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := jsonToCBOR(in)
		if err != nil {
			var e *abi.Error
			require.True(t, errors.As(err, &e))
			require.Equal(t, abi.CodeBadRequest, e.Code)
			return
		}
		require.True(t, json.Valid(in), "accepted invalid JSON %q", in)
		require.NoError(t, abi.WellFormed(c))
		j, err := cborToJSON(c)
		require.NoError(t, err, "CBOR %x from %q", c, in)
		require.True(t, json.Valid(j), "wrote invalid JSON %q", j)
		c2, err := jsonToCBOR(j)
		require.NoError(t, err, "JSON %q", j)
		j2, err := cborToJSON(c2)
		require.NoError(t, err)
		require.Equal(t, string(j), string(j2))
		// Same values both times (key order aside).
		var v1, v2 any
		require.NoError(t, cbor.Unmarshal(c, &v1))
		require.NoError(t, cbor.Unmarshal(c2, &v2))
		require.Equal(t, v1, v2)
	})
}

// FuzzCBORToJSON checks that no reply, however broken, panics the
// conversion, and that what it writes is JSON.
func FuzzCBORToJSON(f *testing.F) {
	for _, s := range []string{
		"a1616101", "1bffffffffffffffff", "c249010000000000000000", "f97e00", "43010203",
		"9f0102ff", "d8206161", "c11a514b67b0", "a2010061310", "ff", "a14100",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		j, err := cborToJSON(in)
		if err != nil {
			var e *abi.Error
			require.True(t, errors.As(err, &e))
			require.Equal(t, abi.CodeBadReply, e.Code)
			return
		}
		require.True(t, json.Valid(j), "wrote invalid JSON %q from %x", j, in)
	})
}

// quickCases are bodies for the quick path: some it takes, some it must
// leave to the general path (escapes, floats, long integers, duplicates,
// broken JSON).
var quickCases = []string{
	`{"n":1}`, `{"n":-1}`, `-0`, `0`, `[]`, `{}`, ` { "a" : [ 1 , 2 ] , "b" : { } } `, `"x"`, `""`,
	`[true,false,null]`, `{"a":{"b":{"c":[1,{"d":null}]}}}`, `999999999999999999`, `-999999999999999999`,
	`[` + strings.Repeat("0,", 23) + `0]`, `[` + strings.Repeat("1,", 299) + `1]`,
	`{"` + strings.Repeat(`a":1,"`, 31) + `b":2}`, `"héllo 😀"`,
	`1.5`, `1e3`, `01`, `-`, `--1`, `1x`, `[1,]`, `[,1]`, `{"a":1,}`, `{"a" 1}`, `{1:2}`, `{"a":1,"a":2}`,
	`"a\nb"`, "\"a\tb\"", `"\u00e9"`, `9223372036854775807`, `tru`, `truex`, `nul`, `[1}`, `{"a":1]`,
	`[1 2]`, `1 2`, `[`, `{`, `"abc`, ` `, strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
	strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
}

// TestQuickJSONToCBOR checks that the quick path takes the plain bodies
// and that whatever it takes converts exactly as on the general path.
func TestQuickJSONToCBOR(t *testing.T) {
	for _, in := range []string{`{"n":1}`, `[1,"a",{"b":null}]`, `[` + strings.Repeat("1,", 299) + `1]`} {
		_, ok := quickJSONToCBOR([]byte(in))
		assert.True(t, ok, "the quick path should take %q", in)
	}
	for _, in := range []string{`{"a":1,"a":2}`, `1.5`, `"a\nb"`, `01`, `[1,]`, `1 2`} {
		_, ok := quickJSONToCBOR([]byte(in))
		assert.False(t, ok, "the quick path should leave %q", in)
	}
	for _, in := range quickCases {
		checkQuick(t, []byte(in))
	}
}

// FuzzQuickJSONToCBOR checks that the quick path converts every body it
// takes exactly as the general path does.
func FuzzQuickJSONToCBOR(f *testing.F) {
	for _, in := range quickCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if utf8.Valid(in) {
			checkQuick(t, in)
		}
	})
}

func checkQuick(t *testing.T, in []byte) {
	t.Helper()
	quick, ok := quickJSONToCBOR(in)
	if !ok {
		return
	}
	general, err := tokensToCBOR(in)
	require.NoError(t, err, "the quick path took %q, which the general path refuses", in)
	assert.Equal(t, hex.EncodeToString(general), hex.EncodeToString(quick), "%q", in)
}

// quickReplies are replies, in hex, for the quick path of cborToJSON:
// some it takes, some it must leave to the general path.
var quickReplies = []string{
	"a1616e05", "a0", "80", "00", "17", "1818", "1bffffffffffffffff", "20", "3b7fffffffffffffff",
	"3bffffffffffffffff", "f4f5", "f5", "f6", "f7", "f800", "f93c00", "fb3ff8000000000000", "6161", "60",
	"826161a1616201", "a2616101616202", "a2616201616101", "a2616101616102", "a1617f00", "a1615c00", "61c3",
	"62c3a9", "9f01ff", "bf6161ff", "4101", "c11a514b67b0", "a1016161", "83010203", "8301", "1c", "a1616e",
	"a2616e01", "00 00",
}

// TestQuickCBORToJSON checks that the quick path takes plain replies and
// writes whatever it takes exactly as the general path does.
func TestQuickCBORToJSON(t *testing.T) {
	for _, in := range []string{"a1616e05", "826161a1616201", "3b7fffffffffffffff"} {
		_, ok := quickCBORToJSON(unhex(t, in))
		assert.True(t, ok, "the quick path should take %s", in)
	}
	for _, in := range []string{"a2616201616101", "fb3ff8000000000000", "61c3", "a1016161"} {
		_, ok := quickCBORToJSON(unhex(t, in))
		assert.False(t, ok, "the quick path should leave %s", in)
	}
	for _, in := range quickReplies {
		checkQuickReply(t, unhex(t, in))
	}
}

// FuzzQuickCBORToJSON checks that the quick path writes every reply it
// takes exactly as the general path does.
func FuzzQuickCBORToJSON(f *testing.F) {
	for _, in := range quickReplies {
		f.Add(unhex(f, in))
	}
	f.Fuzz(checkQuickReply)
}

func checkQuickReply(t *testing.T, in []byte) {
	t.Helper()
	quick, ok := quickCBORToJSON(in)
	if !ok {
		return
	}
	var v any
	require.NoError(t, decMode.Unmarshal(in, &v), "the quick path took %x, which the general path refuses", in)
	general, err := appendJSON(nil, v)
	require.NoError(t, err, "%x", in)
	assert.Equal(t, string(general), string(quick), "%x", in)
}
