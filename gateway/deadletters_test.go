package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

type deadLetter struct {
	ID, Target, Method, Error string
	Payload                   json.RawMessage
	PayloadSize               int  `json:"payload_size"`
	PayloadOmitted            bool `json:"payload_omitted"`
	Attempts                  int
}

// deadPage is the answer of GET /v1/deadletters.
type deadPage struct {
	Deadletters []deadLetter
	NextCursor  *string `json:"next_cursor"`
	Total       int
	TotalBytes  int64 `json:"total_bytes"`
	Dropped     uint64
}

// listDead gets one page of dead letters; query is "" or "?...".
func listDead(t *testing.T, srv *httptest.Server, query string) (deadPage, int) {
	t.Helper()
	r := do(t, srv, http.MethodGet, "/v1/deadletters"+query, nil)
	okJSON(t, r)
	var page deadPage
	require.NoError(t, json.Unmarshal(r.body, &page), "body: %s", r.body)
	return page, len(r.body)
}

// deadFor lists, page by page, the dead letters whose target is ref.
func deadFor(t *testing.T, srv *httptest.Server, ref string) []deadLetter {
	t.Helper()
	var mine []deadLetter
	query := "?limit=" + strconv.Itoa(host.MaxDeadLetterPage)
	for range 100 { // bounded: the shared host has far fewer pages
		page, _ := listDead(t, srv, query)
		for _, d := range page.Deadletters {
			if d.Target == ref {
				mine = append(mine, d)
			}
		}
		if page.NextCursor == nil {
			return mine
		}
		query = "?limit=" + strconv.Itoa(host.MaxDeadLetterPage) + "&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	t.Fatal("the dead letter pages do not end")
	return nil
}

func TestDeadLetters(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	ref := "hostile/" + id(t)
	// A tell the actor refuses becomes a dead letter with its error.
	r := post(t, srv, "/v1/actors/"+ref+"/fail_after_write", `{"why":"test"}`, "Prefer", "respond-async")
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	var dead []deadLetter
	require.Eventually(t, func() bool { dead = deadFor(t, srv, ref); return len(dead) == 1 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, "fail_after_write", dead[0].Method)
	assert.Contains(t, dead[0].Error, "refused")
	assert.Equal(t, 1, dead[0].Attempts)
	assert.JSONEq(t, `{"why":"test"}`, string(dead[0].Payload))
	assert.False(t, dead[0].PayloadOmitted)

	// One by its id.
	var one deadLetter
	require.NoError(t, json.Unmarshal([]byte(okJSON(t, do(t, srv, http.MethodGet, "/v1/deadletters/"+dead[0].ID, nil))), &one))
	assert.Equal(t, dead[0], one)

	// Replay: sent again, refused again, back as a new dead letter.
	r = post(t, srv, "/v1/deadletters/"+dead[0].ID+"/replay", "")
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	require.Eventually(t, func() bool {
		again := deadFor(t, srv, ref)
		return len(again) == 1 && again[0].ID != dead[0].ID
	}, 10*time.Second, 10*time.Millisecond)
	dead = deadFor(t, srv, ref)

	r = do(t, srv, http.MethodDelete, "/v1/deadletters/"+dead[0].ID, nil)
	okJSON(t, r)
	assert.Empty(t, deadFor(t, srv, ref))
	wantError(t, do(t, srv, http.MethodDelete, "/v1/deadletters/"+dead[0].ID, nil), http.StatusBadRequest, "bad_request")
	wantError(t, do(t, srv, http.MethodGet, "/v1/deadletters/"+dead[0].ID, nil), http.StatusBadRequest, "bad_request")
	wantError(t, do(t, srv, http.MethodPut, "/v1/deadletters", nil), http.StatusMethodNotAllowed, "bad_request")
	r = do(t, srv, http.MethodPut, "/v1/deadletters/"+dead[0].ID, nil)
	wantError(t, r, http.StatusMethodNotAllowed, "bad_request")
	assert.Equal(t, "GET, DELETE, HEAD", r.header.Get("Allow"))
}

// The attack of issue 12 over HTTP: a flood of tells of 0.9 MiB that fail.
// The dead letters stay within the cap, and a listing answers small pages
// with a cursor to the next, however large the letters are.
func TestDeadLettersFloodPages(t *testing.T) {
	const tells, size = 100, 900 << 10
	ctx := context.Background()
	h, err := host.New(ctx, host.Config{Store: memstore.New(), CacheDir: cacheDir, Logger: testLogger(t).WithGroup("host"),
		MaxDeadLetters: 8, MaxDeadLetterBytes: 4 << 20})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, h.Close(context.Background())) })
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "hostile", Module: testwasm.Go(t, "hostile"), Source: "hostile.wasm"}))
	require.NoError(t, h.Start(ctx))
	g := gateway.New(h, gateway.Config{})
	g.SetReady(true)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)

	body := `"` + strings.Repeat("x", size) + `"`
	for i := range tells {
		r := post(t, srv, "/v1/actors/hostile/flood"+strconv.Itoa(i%4)+"/fail_after_write", body, "Prefer", "respond-async")
		require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	}
	var page deadPage
	var n int
	require.Eventually(t, func() bool {
		page, n = listDead(t, srv, "?limit=2")
		return uint64(page.Total)+page.Dropped >= tells
	}, 60*time.Second, 20*time.Millisecond)
	assert.LessOrEqual(t, page.Total, 8)
	assert.LessOrEqual(t, page.TotalBytes, int64(4<<20))
	assert.EqualValues(t, tells-page.Total, page.Dropped)
	require.Len(t, page.Deadletters, 2)
	require.NotNil(t, page.NextCursor, "a page that is not the last has a next cursor")
	assert.Less(t, n, 4<<10, "two letters listed without their payloads")
	for _, d := range page.Deadletters {
		assert.True(t, d.PayloadOmitted)
		assert.JSONEq(t, "null", string(d.Payload))
		assert.Greater(t, d.PayloadSize, size)
	}

	// Following the cursor lists each letter kept once, in id order.
	seen := []string{page.Deadletters[0].ID, page.Deadletters[1].ID}
	for range tells { // bounded
		page, n = listDead(t, srv, "?limit=2&cursor="+url.QueryEscape(*page.NextCursor))
		assert.Less(t, n, 4<<10)
		for _, d := range page.Deadletters {
			assert.Greater(t, d.ID, seen[len(seen)-1])
			seen = append(seen, d.ID)
		}
		if page.NextCursor == nil {
			break
		}
	}
	assert.Len(t, seen, page.Total)
	// The default page is small too; one letter comes whole.
	_, n = listDead(t, srv, "")
	assert.Less(t, n, 16<<10)
	r := do(t, srv, http.MethodGet, "/v1/deadletters/"+seen[0], nil)
	var one deadLetter
	require.NoError(t, json.Unmarshal([]byte(okJSON(t, r)), &one))
	assert.JSONEq(t, body, string(one.Payload))
	assert.False(t, one.PayloadOmitted)
}

// A garbage limit or cursor is refused, saying what to send instead.
func TestDeadLettersBadQuery(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	for _, tt := range []struct{ query, want string }{
		{"?limit=abc", `limit "abc" is not a whole number; ask for 1 to 1000 dead letters a page`},
		{"?limit=", `limit "" is not a whole number`},
		{"?limit=0", "limit 0 is out of range: ask for 1 to 1000"},
		{"?limit=1001", "limit 1001 is out of range"},
		{"?limit=99999999999999999999", "ask for 1 to 1000"},
		{"?cursor=garbage", `cursor "garbage" is not one a listing gave; pass next_cursor as it came`},
		{"?cursor=" + url.QueryEscape(`"); DROP`), "is not one a listing gave"},
	} {
		msg := wantError(t, do(t, srv, http.MethodGet, "/v1/deadletters"+tt.query, nil), http.StatusBadRequest, "bad_request")
		assert.Contains(t, msg, tt.want, "query %s", tt.query)
	}
}
