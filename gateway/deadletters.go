package gateway

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/storage"
)

// deadLetterJSON is one dead letter in GET /v1/deadletters and GET
// /v1/deadletters/{id}.
type deadLetterJSON struct {
	ID          string          `json:"id"`
	Target      string          `json:"target"`
	Sender      string          `json:"sender,omitempty"`
	Method      string          `json:"method"`
	Payload     json.RawMessage `json:"payload"`
	PayloadCBOR []byte          `json:"payload_cbor,omitempty"`
	PayloadSize int             `json:"payload_size"`
	// PayloadOmitted says a listing left the payload out: it is longer
	// than storage.MaxListedPayload.
	PayloadOmitted bool   `json:"payload_omitted,omitempty"`
	Error          string `json:"error"`
	Attempts       int    `json:"attempts"`
	At             string `json:"at"`
}

func deadLetterOf(d storage.DeadLetter) deadLetterJSON {
	m := d.Message
	j := deadLetterJSON{ID: m.ID, Target: m.Target, Sender: m.Sender, Method: m.Method,
		Payload: json.RawMessage("null"), PayloadSize: d.PayloadLen, PayloadOmitted: m.Payload == nil && d.PayloadLen > 0,
		Error: d.Error, Attempts: d.Attempts, At: d.At.UTC().Format(time.RFC3339Nano)}
	if len(m.Payload) > 0 {
		if p, err := cborToJSON(m.Payload); err == nil {
			j.Payload = p
		} else {
			j.PayloadCBOR = m.Payload // base64 in JSON
		}
	}
	return j
}

// deadLetters serves GET /v1/deadletters?limit=N&cursor=C: a page of dead
// letters, written to the client one letter at a time, and the cursor of
// the next page (null on the last), with the totals kept and dropped.
func (g *Gateway) deadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := host.DefaultDeadLetterPage
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil {
			g.fail(w, r, abi.NewError(abi.CodeBadRequest, "limit "+strconv.Quote(q.Get("limit"))+" is not a whole number; ask for 1 to "+
				strconv.Itoa(host.MaxDeadLetterPage)+" dead letters a page"))
			return
		}
		limit = n
	}
	page, err := g.h.DeadLetters(r.Context(), q.Get("cursor"), limit)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	st, err := g.h.DeadLetterStats(r.Context())
	if err != nil {
		g.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	// Only plain types are encoded: an error here is the client gone.
	_, _ = bw.WriteString(`{"deadletters":[`)
	for i, d := range page.Letters {
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		if enc.Encode(deadLetterOf(d)) != nil {
			return
		}
	}
	next := "null"
	if page.Next != "" {
		next = strconv.Quote(page.Next) // an id: plain ASCII
	}
	_, _ = bw.WriteString(`],"next_cursor":` + next + `,"total":` + strconv.Itoa(st.Count) +
		`,"total_bytes":` + strconv.FormatInt(st.Bytes, 10) + `,"dropped":` + strconv.FormatUint(st.Dropped, 10) + "}\n")
	_ = bw.Flush()
}

// deadLetter serves GET /v1/deadletters/{id}: one dead letter, payload
// included.
func (g *Gateway) deadLetter(w http.ResponseWriter, r *http.Request) {
	d, err := g.h.DeadLetter(r.Context(), r.PathValue("id"))
	if err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deadLetterOf(d))
}

func (g *Gateway) replayDeadLetter(w http.ResponseWriter, r *http.Request) {
	if err := g.h.ReplayDeadLetter(r.Context(), r.PathValue("id")); err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "replayed"})
}

func (g *Gateway) deleteDeadLetter(w http.ResponseWriter, r *http.Request) {
	if err := g.h.DeleteDeadLetter(r.Context(), r.PathValue("id")); err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "deleted"})
}
