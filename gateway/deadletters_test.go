package gateway_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/gateway"
)

type deadLetter struct {
	ID, Target, Method, Error string
	Payload                   json.RawMessage
	Attempts                  int
}

// deadFor lists the dead letters whose target is ref.
func deadFor(t *testing.T, srv interface {
	Client() *http.Client
}, url, ref string) []deadLetter {
	t.Helper()
	resp, err := srv.Client().Get(url + "/v1/deadletters")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct{ Deadletters []deadLetter }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	var mine []deadLetter
	for _, d := range body.Deadletters {
		if d.Target == ref {
			mine = append(mine, d)
		}
	}
	return mine
}

func TestDeadLetters(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	ref := "hostile/" + id(t)
	// A tell the actor refuses becomes a dead letter with its error.
	r := post(t, srv, "/v1/actors/"+ref+"/fail_after_write", `{"why":"test"}`, "Prefer", "respond-async")
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	var dead []deadLetter
	require.Eventually(t, func() bool { dead = deadFor(t, srv, srv.URL, ref); return len(dead) == 1 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, "fail_after_write", dead[0].Method)
	assert.Contains(t, dead[0].Error, "refused")
	assert.Equal(t, 1, dead[0].Attempts)
	assert.JSONEq(t, `{"why":"test"}`, string(dead[0].Payload))

	// Replay: sent again, refused again, back as a new dead letter.
	r = post(t, srv, "/v1/deadletters/"+dead[0].ID+"/replay", "")
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	require.Eventually(t, func() bool {
		again := deadFor(t, srv, srv.URL, ref)
		return len(again) == 1 && again[0].ID != dead[0].ID
	}, 10*time.Second, 10*time.Millisecond)
	dead = deadFor(t, srv, srv.URL, ref)

	r = do(t, srv, http.MethodDelete, "/v1/deadletters/"+dead[0].ID, nil)
	okJSON(t, r)
	assert.Empty(t, deadFor(t, srv, srv.URL, ref))
	wantError(t, do(t, srv, http.MethodDelete, "/v1/deadletters/"+dead[0].ID, nil), http.StatusBadRequest, "bad_request")
	wantError(t, do(t, srv, http.MethodPut, "/v1/deadletters", nil), http.StatusMethodNotAllowed, "bad_request")
}
