package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage/memstore"
)

func TestReminderListing(t *testing.T) {
	ctx := context.Background()
	epoch := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h, err := host.New(ctx, host.Config{Store: memstore.New(), CacheDir: testwasm.CacheDir(t), Clock: scheduler.NewManualClock(epoch)})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(t, h.Close(ctx))
	})
	for _, name := range []string{"alarm", "clockwork"} {
		require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: name, Module: testwasm.Go(t, name), Source: name + ".wasm"}))
	}
	require.NoError(t, h.Start(ctx))
	g := gateway.New(h, gateway.Config{Logger: testLogger(t)})
	g.SetReady(true)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)

	assert.JSONEq(t, `{"reminders":[]}`, okJSON(t, do(t, srv, "GET", "/v1/actors/alarm/a/reminders", nil)))
	assert.JSONEq(t, `{"fired":0}`, okJSON(t, post(t, srv, "/v1/actors/alarm/a/set", `{"in_ms":3600000}`)))
	assert.JSONEq(t, `{"reminders":[{"actor":"alarm/a","name":"alarm","method":"ring","payload":null,
		"due":"2030-01-01T01:00:00Z","due_unix_ms":1893459600000,"kind":"once","missed":"catch_up"}]}`,
		okJSON(t, do(t, srv, "GET", "/v1/actors/alarm/a/reminders", nil)))

	okJSON(t, post(t, srv, "/v1/actors/clockwork/c%2Fd/reminder", `{"name":"b","every_ms":60000,"missed":"skip"}`))
	okJSON(t, post(t, srv, "/v1/actors/clockwork/c%2Fd/reminder", `{"name":"a","cron":"0 9 * * *"}`))
	var got struct {
		Reminders []map[string]any `json:"reminders"`
	}
	require.NoError(t, json.Unmarshal([]byte(okJSON(t, do(t, srv, "GET", "/v1/actors/clockwork/c%2Fd/reminders", nil))), &got))
	require.Len(t, got.Reminders, 2)
	a, b := got.Reminders[0], got.Reminders[1]
	assert.Equal(t, "a", a["name"])
	assert.Equal(t, "cron", a["kind"])
	assert.Equal(t, "0 9 * * *", a["cron"])
	assert.Equal(t, "2030-01-01T09:00:00Z", a["due"])
	assert.Equal(t, map[string]any{"name": "a"}, a["payload"])
	assert.Equal(t, "every", b["kind"])
	assert.EqualValues(t, 60000, b["every_ms"])
	assert.Equal(t, "skip", b["missed"])
	assert.NotContains(t, b, "cron")

	// Every actor's reminders, the next due first.
	got.Reminders = nil
	require.NoError(t, json.Unmarshal([]byte(okJSON(t, do(t, srv, "GET", "/v1/reminders", nil))), &got))
	require.Len(t, got.Reminders, 3)
	var order []string
	for _, r := range got.Reminders {
		order = append(order, r["actor"].(string)+" "+r["name"].(string))
	}
	assert.Equal(t, []string{"clockwork/c/d b", "alarm/a alarm", "clockwork/c/d a"}, order)
	require.NoError(t, json.Unmarshal([]byte(okJSON(t, do(t, srv, "GET", "/v1/reminders?limit=1", nil))), &got))
	assert.Len(t, got.Reminders, 1)
	wantError(t, do(t, srv, "GET", "/v1/reminders?limit=0", nil), http.StatusBadRequest, "bad_request")

	assert.Equal(t, http.StatusOK, do(t, srv, "HEAD", "/v1/actors/alarm/a/reminders", nil).status)
	wantError(t, do(t, srv, "GET", "/v1/actors/nosuch/a/reminders", nil), http.StatusNotFound, "unknown_type")
	wantError(t, do(t, srv, "GET", "/v1/actors/alarm/a%01/reminders", nil), http.StatusBadRequest, "bad_request")
	wantError(t, do(t, srv, "DELETE", "/v1/actors/alarm/a/reminders", nil), http.StatusMethodNotAllowed, "bad_request")
	// POST is still a call: to a method named "reminders", which alarm has not.
	wantError(t, post(t, srv, "/v1/actors/alarm/a/reminders", ""), http.StatusNotFound, "unknown_method")
}
