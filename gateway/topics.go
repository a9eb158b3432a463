package gateway

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/wactor/wactor/abi"
)

// sseHeartbeat is how often a quiet event stream gets a comment line, so
// that proxies and clients see the connection alive.
const sseHeartbeat = 15 * time.Second

// followWriteTimeout bounds each write to a follower (Gateway's
// followWriteTimeout): a client that stops reading is let go once the
// connection's buffers are full this long.
const followWriteTimeout = 30 * time.Second

// publish serves POST /v1/topics/{topic}: the body (JSON or CBOR, as for
// a call) is published to the topic; 202 once it is committed. With an
// Idempotency-Key, a repeat of the same key publishes nothing more.
func (g *Gateway) publish(w http.ResponseWriter, r *http.Request) {
	if err := g.crossOrigin.Check(r); err != nil {
		g.fail(w, r, statusError(http.StatusForbidden, abi.CodeUnauthorized,
			"a web page of another site may not publish through the browser; publish from a program"))
		return
	}
	topic := r.PathValue("topic")
	if e := abi.CheckTopic("topic", topic); e != nil {
		g.fail(w, r, e)
		return
	}
	opts, err := keyOptions(r.Header)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	body, err := g.readBody(w, r)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	payload, _, err := bodyPayload(r.Header.Get("Content-Type"), body)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	if err := g.h.Publish(r.Context(), topic, payload, opts...); err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}

// sseEvent is the data of one server-sent event: the publication, its
// payload as JSON, or as base64 CBOR when it has no JSON form.
type sseEvent struct {
	ID          string          `json:"id"`
	Topic       string          `json:"topic"`
	Sender      string          `json:"sender"`
	Payload     json.RawMessage `json:"payload,omitempty"`
	PayloadCBOR string          `json:"payload_cbor,omitempty"`
}

// follow serves GET /v1/topics/{topic}/events: the topic's publications,
// live, as server-sent events, best effort (see docs/http.md).
func (g *Gateway) follow(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	fl, err := g.h.Follow(topic)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	defer fl.Stop()
	rc := http.NewResponseController(w)
	// A stream outlives the server's write timeout; each write gets its
	// own, so that a client that stops reading is let go.
	send := func(chunk []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(g.followWriteTimeout))
		_, err := w.Write(chunk)
		return err == nil && rc.Flush() == nil
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if !send([]byte(": following " + topic + "\n\n")) {
		return
	}
	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	for {
		var chunk []byte
		select {
		case <-r.Context().Done():
			return
		case <-beat.C:
			chunk = []byte(": keep-alive\n\n")
		case ev, ok := <-fl.Events:
			if !ok {
				send([]byte("event: dropped\ndata: {\"reason\":\"the client fell behind or the server is stopping\"}\n\n"))
				return
			}
			data := sseEvent{ID: ev.ID, Topic: ev.Topic, Sender: ev.Sender}
			if len(ev.Payload) > 0 {
				if js, err := cborToJSON(ev.Payload); err == nil {
					data.Payload = js
				} else {
					data.PayloadCBOR = base64.StdEncoding.EncodeToString(ev.Payload)
				}
			}
			line, _ := json.Marshal(data)
			chunk = append(append(append([]byte("event: message\nid: "+ev.ID+"\ndata: "), line...), '\n'), '\n')
		}
		if !send(chunk) {
			return
		}
	}
}
