package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/gateway"
)

// follow follows topic with server-sent events until the test ends, and
// returns the stream's lines after its first comment, which says the
// follower is registered.
func follow(t *testing.T, srv *httptest.Server, topic string) *bufio.Scanner {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/topics/"+topic+"/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	lines := bufio.NewScanner(resp.Body)
	require.True(t, lines.Scan())
	assert.Equal(t, ": following "+topic, lines.Text(), "the stream starts with a comment once the follower is registered")
	return lines
}

// TestTopicEvents follows a topic with server-sent events and publishes to
// it over HTTP: each publication arrives as one event, its payload as JSON.
func TestTopicEvents(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	topic := "gw.events." + id(t)
	lines := follow(t, srv, topic)

	for i, body := range []string{`{"n":1,"who":"ädä"}`, `[1,2]`} {
		r, err := http.Post(srv.URL+"/v1/topics/"+topic, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		r.Body.Close()
		require.Equal(t, http.StatusAccepted, r.StatusCode)

		var event, data string
		for lines.Scan() {
			line := lines.Text()
			if line == "" && data != "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				data = v
			}
		}
		require.Equal(t, "message", event, "event %d", i)
		var got struct {
			Topic, Sender string
			Payload       json.RawMessage
		}
		require.NoError(t, json.Unmarshal([]byte(data), &got))
		assert.Equal(t, topic, got.Topic)
		assert.Empty(t, got.Sender, "published from outside")
		assert.JSONEq(t, body, string(got.Payload))
	}
}

// TestTopicPublishOnce publishes with an Idempotency-Key: eight
// concurrent posts of one key publish once, and a bad key is refused.
func TestTopicPublishOnce(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	topic := "gw.once." + id(t)
	lines := follow(t, srv, topic)

	publish := func(key, body string) (int, error) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/topics/"+topic, strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		r.Body.Close()
		return r.StatusCode, nil
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, err := publish("order-7", `{"n":`+strconv.Itoa(i)+`}`)
			assert.NoError(t, err)
			assert.Equal(t, http.StatusAccepted, status)
		}()
	}
	wg.Wait()
	status, err := publish("bad key", `{}`)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, status)
	status, err = publish("end", `"end"`)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, status)

	// Publications arrive in publish order: every one before "end".
	var payloads []string
	for lines.Scan() {
		data, ok := strings.CutPrefix(lines.Text(), "data: ")
		if !ok {
			continue
		}
		var got struct{ Payload json.RawMessage }
		require.NoError(t, json.Unmarshal([]byte(data), &got))
		if string(got.Payload) == `"end"` {
			break
		}
		payloads = append(payloads, string(got.Payload))
	}
	require.Len(t, payloads, 1, "publications of the key order-7: %v", payloads)
}

func TestTopicRefusals(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	for path, want := range map[string]int{
		"/v1/topics/a%20b":   http.StatusBadRequest,
		"/v1/topics/a..b":    http.StatusBadRequest,
		"/v1/topics/rooms.*": http.StatusBadRequest,
	} {
		r, err := http.Post(srv.URL+path, "application/json", strings.NewReader(`{}`))
		require.NoError(t, err)
		r.Body.Close()
		assert.Equal(t, want, r.StatusCode, path)
	}
	r, err := http.Post(srv.URL+"/v1/topics/ok.topic", "application/json", strings.NewReader(`{"a":`))
	require.NoError(t, err)
	r.Body.Close()
	assert.Equal(t, http.StatusBadRequest, r.StatusCode, "a malformed body")
}
