package gateway

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/wactor/wactor/abi"
)

// Bounds of GET /v1/actors/{type}/{id}/state.
const (
	// defaultStatePage and maxStatePage are the keys a page lists when
	// limit is not given, and at most.
	defaultStatePage = 100
	maxStatePage     = 1000
	// maxStatePageBytes ends a page early once its values add up to it.
	maxStatePageBytes = 1 << 20
	// maxListedValue is the longest value a page shows; a longer one is
	// left out (value_omitted) and read alone with ?key=.
	maxListedValue = 64 << 10
	// maxStateKey is the longest key an actor can write (docs/ABI.md), so
	// the longest cursor or key worth asking for.
	maxStateKey = 1024
)

// stateEntryJSON is one key of an actor's state.
type stateEntryJSON struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
	// ValueBase64 holds the value's bytes when they are not CBOR with a
	// JSON form (Value is then null).
	ValueBase64 []byte `json:"value_base64,omitempty"`
	Size        int    `json:"size"`
	// ValueOmitted says the page left the value out: it is longer than
	// maxListedValue.
	ValueOmitted bool `json:"value_omitted,omitempty"`
}

// stateJSON is the answer of GET /v1/actors/{type}/{id}/state.
type stateJSON struct {
	Actor      string           `json:"actor"`
	Version    uint64           `json:"version"`
	Keys       int              `json:"keys"`
	Bytes      int64            `json:"bytes"`
	State      []stateEntryJSON `json:"state"`
	NextCursor *string          `json:"next_cursor"`
}

// actorState serves GET /v1/actors/{type}/{id}/state?limit=N&cursor=K, or
// ?key=K: the committed state of an actor, read only, a page of keys in
// key order with their values as JSON.
func (g *Gateway) actorState(w http.ResponseWriter, r *http.Request) {
	ref := abi.Ref{Type: r.PathValue("type"), ID: r.PathValue("id")}
	q := r.URL.Query()
	limit := defaultStatePage
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maxStatePage {
			g.fail(w, r, abi.NewError(abi.CodeBadRequest, "limit "+strconv.Quote(q.Get("limit"))+" must be a number from 1 to "+strconv.Itoa(maxStatePage)))
			return
		}
		limit = n
	}
	for _, p := range []string{"cursor", "key"} {
		if len(q.Get(p)) > maxStateKey {
			g.fail(w, r, abi.NewError(abi.CodeBadRequest, p+" is "+strconv.Itoa(len(q.Get(p)))+" bytes; state keys are at most "+strconv.Itoa(maxStateKey)))
			return
		}
	}
	one, cursor := q.Has("key"), q.Get("cursor")
	if one && (cursor != "" || q.Has("limit")) {
		g.fail(w, r, abi.NewError(abi.CodeBadRequest, "key reads one value whole: leave out cursor and limit"))
		return
	}
	snap, err := g.h.State(r.Context(), ref)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	out := stateJSON{Actor: ref.String(), Version: snap.Version, Keys: len(snap.State), State: []stateEntryJSON{}}
	keys := make([]string, 0, len(snap.State))
	for k, v := range snap.State {
		keys = append(keys, k)
		out.Bytes += int64(len(v))
	}
	if one {
		v, ok := snap.State[q.Get("key")]
		if !ok {
			g.fail(w, r, statusError(http.StatusNotFound, abi.CodeBadRequest, ref.String()+" has no state key "+strconv.Quote(q.Get("key"))))
			return
		}
		out.State = append(out.State, stateEntry(q.Get("key"), v, len(v)))
		writeJSON(w, http.StatusOK, out)
		return
	}
	slices.Sort(keys)
	start, _ := slices.BinarySearch(keys, cursor)
	if start < len(keys) && keys[start] == cursor && cursor != "" {
		start++ // the cursor is the last key of the page before
	}
	size := 0
	i := start
	for ; i < len(keys) && len(out.State) < limit && size < maxStatePageBytes; i++ {
		v := snap.State[keys[i]]
		e := stateEntry(keys[i], v, maxListedValue)
		size += len(e.Value) + len(e.ValueBase64)
		out.State = append(out.State, e)
	}
	if i < len(keys) {
		next := keys[i-1]
		out.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, out)
}

// stateEntry is key and its value v as JSON, or left out when it is longer
// than limit.
func stateEntry(key string, v []byte, limit int) stateEntryJSON {
	e := stateEntryJSON{Key: key, Value: json.RawMessage("null"), Size: len(v)}
	switch {
	case len(v) > limit:
		e.ValueOmitted = true
	case len(v) == 0:
	default:
		if j, err := cborToJSON(v); err == nil {
			e.Value = j
		} else {
			e.ValueBase64 = v
		}
	}
	return e
}
