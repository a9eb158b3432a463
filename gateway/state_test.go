package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/gateway"
)

type stateEntry struct {
	Key          string          `json:"key"`
	Value        json.RawMessage `json:"value"`
	ValueBase64  []byte          `json:"value_base64"`
	Size         int             `json:"size"`
	ValueOmitted bool            `json:"value_omitted"`
}

type statePage struct {
	Actor      string       `json:"actor"`
	Version    uint64       `json:"version"`
	Keys       int          `json:"keys"`
	Bytes      int64        `json:"bytes"`
	State      []stateEntry `json:"state"`
	NextCursor *string      `json:"next_cursor"`
}

func getState(t *testing.T, r response) statePage {
	t.Helper()
	var p statePage
	require.NoError(t, json.Unmarshal([]byte(okJSON(t, r)), &p))
	return p
}

// TestActorState: the read-only state route lists an actor's committed
// state as JSON, in pages of keys, leaving out long values and giving
// values without a JSON form as base64.
func TestActorState(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	ref := "hostile/" + id(t)
	path := "/v1/actors/" + ref + "/state"

	p := getState(t, do(t, srv, http.MethodGet, path, nil))
	assert.Equal(t, statePage{Actor: ref, State: []stateEntry{}}, p, "an actor never written to")

	for _, kv := range [][2]string{{"a", `1`}, {"b", `{"x":[1,2.5,"y"]}`}, {"c", `"text"`}, {"big", `18446744073709551616`}} {
		okJSON(t, post(t, srv, "/v1/actors/"+ref+"/write", `{"key":"`+kv[0]+`","value":`+kv[1]+`}`))
	}
	long := strings.Repeat("z", 70<<10)
	okJSON(t, post(t, srv, "/v1/actors/"+ref+"/write", `{"key":"long","value":"`+long+`"}`))
	// A map with a byte-string key has no JSON form.
	body, err := cbor.Marshal(map[string]any{"key": "raw", "value": map[any]int{[1]byte{1}: 1}})
	require.NoError(t, err)
	r := do(t, srv, http.MethodPost, "/v1/actors/"+ref+"/write", body, "Content-Type", "application/cbor")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)

	p = getState(t, do(t, srv, http.MethodGet, path, nil))
	assert.Equal(t, ref, p.Actor)
	assert.EqualValues(t, 6, p.Version)
	assert.Equal(t, 6, p.Keys)
	assert.Nil(t, p.NextCursor)
	require.Len(t, p.State, 6)
	got := map[string]stateEntry{}
	var order []string
	for _, e := range p.State {
		got[e.Key] = e
		order = append(order, e.Key)
	}
	assert.Equal(t, []string{"a", "b", "big", "c", "long", "raw"}, order, "keys in order")
	assert.JSONEq(t, `1`, string(got["a"].Value))
	assert.JSONEq(t, `{"x":[1,2.5,"y"]}`, string(got["b"].Value))
	assert.Equal(t, `18446744073709551616`, string(got["big"].Value), "exact beyond 64 bits")
	assert.True(t, got["long"].ValueOmitted)
	assert.Equal(t, "null", string(got["long"].Value))
	assert.Greater(t, got["long"].Size, 70<<10)
	assert.Equal(t, "null", string(got["raw"].Value))
	assert.Equal(t, []byte{0xa1, 0x41, 0x01, 0x01}, got["raw"].ValueBase64)
	var sum int64
	for _, e := range p.State {
		sum += int64(e.Size)
	}
	assert.Equal(t, sum, p.Bytes)

	// Pages of two keys, following the cursor.
	order = nil
	cursor := ""
	for range 10 {
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		p := getState(t, do(t, srv, http.MethodGet, path+q, nil))
		assert.LessOrEqual(t, len(p.State), 2)
		for _, e := range p.State {
			order = append(order, e.Key)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	assert.Equal(t, []string{"a", "b", "big", "c", "long", "raw"}, order)

	// One key whole.
	p = getState(t, do(t, srv, http.MethodGet, path+"?key=long", nil))
	require.Len(t, p.State, 1)
	assert.JSONEq(t, `"`+long+`"`, string(p.State[0].Value))
	assert.Equal(t, 6, p.Keys)

	wantError(t, do(t, srv, http.MethodGet, path+"?key=nosuch", nil), http.StatusNotFound, "bad_request")
	wantError(t, do(t, srv, http.MethodGet, path+"?key=a&limit=2", nil), http.StatusBadRequest, "bad_request")
	wantError(t, do(t, srv, http.MethodGet, path+"?limit=0", nil), http.StatusBadRequest, "bad_request")
	wantError(t, do(t, srv, http.MethodGet, path+"?limit=1001", nil), http.StatusBadRequest, "bad_request")
	wantError(t, do(t, srv, http.MethodGet, path+"?cursor="+strings.Repeat("k", 1025), nil), http.StatusBadRequest, "bad_request")
	wantError(t, do(t, srv, http.MethodGet, "/v1/actors/nosuch/a/state", nil), http.StatusNotFound, "unknown_type")
	wantError(t, do(t, srv, http.MethodGet, "/v1/actors/hostile/a%01/state", nil), http.StatusBadRequest, "bad_request")
	assert.Equal(t, http.StatusOK, do(t, srv, http.MethodHead, path, nil).status)
	// POST is still a call: to a method named "state", which hostile has not.
	wantError(t, post(t, srv, path, ""), http.StatusNotFound, "unknown_method")
}
