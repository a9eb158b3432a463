package gateway

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
)

// DefaultMaxBody is the request body limit when Config.MaxBody is zero.
const DefaultMaxBody = 1 << 20

// Config configures a Gateway.
type Config struct {
	// MaxBody is the largest request body accepted, in bytes; a larger one
	// gets 413 too_large. Zero means DefaultMaxBody. The target type's
	// max message size applies to the converted payload as well.
	MaxBody int64
	// Logger receives a Debug record per request and a Warn record per
	// 5xx answer. Nil discards them.
	Logger *slog.Logger
	// Token, when not empty, is the bearer token that every route other
	// than calling an actor and the health checks requires: a request
	// without "Authorization: Bearer <Token>" gets 401 unauthorized and
	// changes nothing. The dashboard's login form (POST /ui/login)
	// exchanges the token for a session cookie that the control routes
	// take in its place (docs/dashboard.md). Empty leaves those routes
	// open to whoever reaches the handler; wactor run allows that only on
	// a loopback address.
	Token string
	// LoopbackHostOnly, with no Token, refuses the control routes and the
	// dashboard to a request whose Host header names neither an IP
	// address nor localhost, so that a web page whose name was made to
	// resolve to 127.0.0.1 (DNS rebinding) cannot use the open control
	// plane through the operator's browser. wactor run sets it when it
	// serves without a token on loopback.
	LoopbackHostOnly bool
	// Cluster, when not nil, is the cluster the node belongs to, which
	// GET /v1/cluster lists; nil: the node runs alone.
	Cluster Cluster
	// Metrics, when not nil, serves GET /metrics (a control route); nil
	// answers it 404.
	Metrics http.Handler
	// Observer, when not nil, is told of every request answered.
	Observer RequestObserver
	// TracerProvider, when set, makes a span for each request, a child
	// of the caller's when the request has a W3C traceparent header, and
	// hands it to the host with the call (see docs/http.md, "Tracing").
	// Nil (the default) traces nothing.
	TracerProvider trace.TracerProvider
}

// Gateway is the HTTP API over a host: it implements http.Handler. See
// docs/http.md for the routes. It is safe for concurrent use.
type Gateway struct {
	h       *host.Host
	cl      Cluster // nil: not a cluster
	maxBody int64
	log     *slog.Logger
	mux     *http.ServeMux // written only while New routes
	// patterns is every pattern New put on mux, with its access; a
	// test checks that each one is classified.
	patterns map[string]access
	token    *[sha256.Size]byte // SHA-256 of Config.Token; nil: no token
	sessions *sessions          // the dashboard's browser sessions
	// loopbackHostOnly is Config.LoopbackHostOnly; crossOrigin refuses
	// a browser's cross-origin requests to the open control plane.
	loopbackHostOnly bool
	crossOrigin      *http.CrossOriginProtection
	// metricsHandler and obs are Config.Metrics and Config.Observer.
	metricsHandler http.Handler
	obs            RequestObserver
	state          atomic.Int32 // readiness: one of the states below
	tracer         trace.Tracer // nil: tracing is off
	// followWriteTimeout bounds each write to a follower of a topic.
	followWriteTimeout time.Duration
	// deployed and typeCount are the start-up progress /readyz reports
	// while starting (SetProgress).
	deployed, typeCount atomic.Int64
}

// Readiness states reported by /readyz.
const (
	stateStarting int32 = iota
	stateReady
	stateStopping
)

// New returns a Gateway that serves h. It reports not ready until
// SetReady(true).
func New(h *host.Host, cfg Config) *Gateway {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{h: h, cl: cfg.Cluster, maxBody: cfg.MaxBody, log: cfg.Logger, mux: http.NewServeMux(), patterns: map[string]access{},
		metricsHandler: cfg.Metrics, obs: cfg.Observer, sessions: newSessions(),
		loopbackHostOnly: cfg.LoopbackHostOnly, crossOrigin: http.NewCrossOriginProtection(), followWriteTimeout: followWriteTimeout}
	if cfg.TracerProvider != nil {
		g.tracer = cfg.TracerProvider.Tracer(tracerName)
	}
	if cfg.Token != "" {
		sum := sha256.Sum256([]byte(cfg.Token))
		g.token = &sum
	}
	// Each path gets one 405 handler naming all its methods, guarded like
	// the path's first route.
	var paths []string
	methods := map[string][]string{}
	first := map[string]access{}
	for _, rt := range g.routes() {
		handle := rt.handle
		if !rt.early {
			handle = g.afterStart(handle)
		}
		g.register(rt.pattern, rt.access, handle)
		if rt.alone {
			continue
		}
		method, path, _ := strings.Cut(rt.pattern, " ")
		if _, ok := methods[path]; !ok {
			paths = append(paths, path)
			first[path] = rt.access
		}
		methods[path] = append(methods[path], method)
	}
	for _, path := range paths {
		g.register(path, first[path], g.methodNotAllowed(methods[path]))
	}
	return g
}

// route is one pattern of the API ("METHOD /path") and who may use it.
type route struct {
	pattern string
	access  access
	handle  http.HandlerFunc
	// alone: no 405 handler for the path's other methods (the path is
	// also served by a more general route, or takes every method).
	alone bool
	// early: served while starting; the other routes answer 503 until
	// SetReady(true), since the types are not all deployed.
	early bool
}

// routes is the whole API: every pattern the gateway serves is here, and
// only here, with its access. A route is control (token required) unless
// it says public.
func (g *Gateway) routes() []route {
	return []route{
		{pattern: callPattern, access: public, handle: g.call},
		// More specific than the route above, which still takes a POST to
		// a method named "reminders"; so no 405 route of its own.
		{pattern: "GET /v1/actors/{type}/{id}/reminders", access: control, handle: g.reminders, alone: true},
		{pattern: "GET /v1/actors", access: control, handle: g.activations},
		{pattern: "GET /v1/types", access: control, handle: g.types},
		// Served while starting too: a node joining shows in it.
		{pattern: "GET /v1/cluster", access: control, handle: g.cluster, early: true},
		{pattern: "GET /v1/reminders", access: control, handle: g.allReminders},
		{pattern: "GET /v1/deadletters", access: control, handle: g.deadLetters},
		{pattern: "GET /v1/deadletters/{id}", access: control, handle: g.deadLetter},
		{pattern: "DELETE /v1/deadletters/{id}", access: control, handle: g.deleteDeadLetter},
		{pattern: "POST /v1/deadletters/{id}/replay", access: control, handle: g.replayDeadLetter},
		{pattern: "GET /v1/actors/{type}/{id}/state", access: control, handle: g.actorState, alone: true},
		// Topics (topics.go): publishing is like a tell; following a topic
		// reveals every message on it, so it needs the token.
		{pattern: "POST /v1/topics/{topic}", access: public, handle: g.publish},
		{pattern: "GET /v1/topics/{topic}/events", access: control, handle: g.follow},
		// The dashboard (ui.go): its pages need the token or a session; the
		// login form and its style sheet do not.
		{pattern: "GET /ui", access: public, handle: g.uiRoot, early: true},
		{pattern: "GET /ui/login", access: public, handle: g.uiLogin, early: true},
		{pattern: "POST /ui/login", access: public, handle: g.uiLoginPost, early: true},
		{pattern: "POST /ui/logout", access: public, handle: g.uiLogout, early: true},
		{pattern: "GET /ui/style.css", access: public, handle: g.uiStyle, early: true},
		// Every other path under /ui/, whatever the method (uiPage answers
		// 405 itself: a 405 route of its own would clash with the above).
		{pattern: "/ui/", access: page, handle: g.uiPage, alone: true, early: true},
		{pattern: "GET /healthz", access: public, handle: g.healthz, early: true},
		{pattern: "GET /readyz", access: public, handle: g.readyz, early: true},
		// Served while starting too: a scrape then sees the node come up.
		{pattern: "GET /metrics", access: control, handle: g.metrics, early: true},
		// Any other path: a 404 that reveals nothing, so an actor caller
		// without a token learns of a typo rather than of a token.
		{pattern: "/", access: public, handle: g.notFound, alone: true, early: true},
	}
}

// register puts h on pattern, guarded by the token unless access is public.
func (g *Gateway) register(pattern string, access access, h http.HandlerFunc) {
	g.patterns[pattern] = access
	g.mux.HandleFunc(pattern, g.guard(access, h))
}

// methodNotAllowed answers every method but those of its path with 405 and
// an Allow header naming them.
func (g *Gateway) methodNotAllowed(methods []string) http.HandlerFunc {
	allow := slices.Clone(methods)
	if slices.Contains(allow, http.MethodGet) {
		allow = append(allow, http.MethodHead)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		g.fail(w, r, statusError(http.StatusMethodNotAllowed, abi.CodeBadRequest,
			"method "+r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(methods, " or ")))
	}
}

// notFound answers a path no route serves.
func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	g.fail(w, r, statusError(http.StatusNotFound, abi.CodeBadRequest,
		"no route "+r.Method+" "+r.URL.Path+"; see docs/http.md for the API"))
}

// afterStart answers 503 unavailable while the gateway is starting, and
// hands the request to h once it was ready.
func (g *Gateway) afterStart(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if g.state.Load() == stateStarting {
			g.refuseStarting(w, r)
			return
		}
		h(w, r)
	}
}

// refuseStarting answers a request that must wait for the start-up.
func (g *Gateway) refuseStarting(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "1")
	g.fail(w, r, statusError(http.StatusServiceUnavailable, abi.CodeUnavailable,
		fmt.Sprintf("wactor is starting: %d of %d types deployed; retry when GET /readyz answers 200", g.deployed.Load(), g.typeCount.Load())))
}

// SetProgress sets the start-up progress /readyz reports while starting:
// deployed of types actor types are deployed.
func (g *Gateway) SetProgress(deployed, types int) {
	g.deployed.Store(int64(deployed))
	g.typeCount.Store(int64(types))
}

// SetReady sets what /readyz reports: ready (200) or, once it was ready,
// stopping (503). The CLI sets it after deploying and starting the host,
// and clears it when shutting down.
func (g *Gateway) SetReady(ready bool) {
	if ready {
		g.state.Store(stateReady)
	} else {
		g.state.Store(stateStopping)
	}
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.tracer != nil {
		g.serveTraced(w, r)
		return
	}
	g.serve(w, r)
}

// serve routes r and logs it; it returns the response's status.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) int {
	// The clock is read only when something takes the duration: the
	// observer, or a logger that keeps some record (a failure's is Warn).
	var start time.Time
	timed := g.obs != nil || g.log.Enabled(r.Context(), slog.LevelDebug) || g.log.Enabled(r.Context(), slog.LevelWarn)
	if timed {
		start = time.Now()
	}
	rec := recorders.Get().(*recorder)
	*rec = recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		// Nothing keeps the writer once the handler returned (net/http
		// forbids using it then), so the recorder serves the next request.
		*rec = recorder{}
		recorders.Put(rec)
	}()
	if typ, id, method, ok := callPath(r); ok {
		// The route of nearly every request, without the mux's search
		// of every pattern and the wildcard values it allocates.
		r.Pattern = callPattern
		if g.state.Load() == stateStarting {
			g.refuseStarting(rec, r)
		} else {
			g.callActor(rec, r, typ, id, method)
		}
	} else {
		g.mux.ServeHTTP(rec, r)
	}
	if g.obs != nil {
		g.obs.RequestDone(r.Pattern, rec.status, time.Since(start))
	}
	level, msg := slog.LevelDebug, "http request"
	// A client that hung up caused its own 503, and a 503 while starting
	// or stopping is expected; neither is server trouble.
	if rec.status >= 500 && r.Context().Err() == nil && (rec.status != http.StatusServiceUnavailable || g.state.Load() == stateReady) {
		level, msg = slog.LevelWarn, "http request failed"
	}
	// The record's attributes cost allocations on every request: make
	// them only when the logger keeps the record.
	if !timed || !g.log.Enabled(r.Context(), level) {
		return rec.status
	}
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rec.status), slog.Duration("duration", time.Since(start))}
	if rec.err != nil {
		attrs = append(attrs, slog.String("code", rec.err.Code), slog.String("message", rec.err.Message))
	}
	g.log.LogAttrs(r.Context(), level, msg, attrs...)
	return rec.status
}

// callPattern is the route of calls to actors.
const callPattern = "POST /v1/actors/{type}/{id}/{method}"

// callPath returns the wildcards of r when it is a request the mux would
// route to callPattern: a POST of a clean path (which the mux would
// otherwise redirect) of three non-empty segments under /v1/actors/,
// with nothing escaped in it (an escaped path goes through the mux,
// which unescapes each segment). No other route takes such a request:
// the more specific patterns under /v1/actors/ are GET only.
func callPath(r *http.Request) (typ, id, method string, ok bool) {
	const prefix = "/v1/actors/"
	if r.Method != http.MethodPost || r.URL.RawPath != "" || !strings.HasPrefix(r.URL.Path, prefix) {
		return "", "", "", false
	}
	rest := r.URL.Path[len(prefix):]
	typ, rest, ok1 := strings.Cut(rest, "/")
	id, method, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || strings.IndexByte(method, '/') >= 0 {
		return "", "", "", false
	}
	for _, seg := range [...]string{typ, id, method} {
		if seg == "" || seg == "." || seg == ".." {
			return "", "", "", false
		}
	}
	return typ, id, method, true
}

// recorders are the recorders of requests answered, for the next ones.
var recorders = sync.Pool{New: func() any { return new(recorder) }}

// recorder remembers the status and the error of a response for the log.
type recorder struct {
	http.ResponseWriter
	status int
	err    *abi.Error
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// call serves POST /v1/actors/{type}/{id}/{method}: an ask, or a tell
// with Prefer: respond-async.
func (g *Gateway) call(w http.ResponseWriter, r *http.Request) {
	g.callActor(w, r, r.PathValue("type"), r.PathValue("id"), r.PathValue("method"))
}

// callActor is call with the route's wildcards.
func (g *Gateway) callActor(w http.ResponseWriter, r *http.Request, typ, id, method string) {
	// Public, but not to another site's page in a browser: it could only
	// send a form or a body without a type (anything else needs a CORS
	// preflight, never granted), and would use the browser to reach a
	// node that listens on loopback.
	if err := g.crossOrigin.Check(r); err != nil {
		g.fail(w, r, statusError(http.StatusForbidden, abi.CodeUnauthorized,
			"a web page of another site may not call actors through the browser; call from a program, not a browser page"))
		return
	}
	ref := abi.Ref{Type: typ, ID: id}
	if err := ref.Validate(); err != nil {
		g.fail(w, r, err)
		return
	}
	opts, err := keyOptions(r.Header)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	async := prefersAsync(r.Header)

	body, err := g.readBody(w, r)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	payload, in, err := bodyPayload(r.Header.Get("Content-Type"), body)
	if err != nil {
		g.fail(w, r, err)
		return
	}

	if async {
		if err := g.h.Tell(r.Context(), ref, method, payload, opts...); err != nil {
			g.fail(w, r, err)
			return
		}
		w.Header().Set("Preference-Applied", "respond-async")
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
		return
	}

	out, err := replyFormat(r.Header.Values("Accept"), in)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	reply, err := g.h.Ask(r.Context(), ref, method, payload, opts...)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	if out == formatJSON {
		if len(reply) == 0 {
			reply = []byte("null")
		} else if reply, err = cborToJSON(reply); err != nil {
			var e *abi.Error
			errors.As(err, &e)
			g.fail(w, r, abi.NewError(e.Code, "the turn of "+ref.String()+" "+method+" committed, but "+
				e.Message+"; ask with Accept: application/cbor to get the reply as it is"))
			return
		}
		reply = append(reply, '\n')
	}
	// Set directly under the canonical names, Content-Type from a shared
	// value: Header.Set allocates a slice for each, on every request.
	// Nothing changes a header's values in place (net/http copies the
	// map when the header is written).
	h := w.Header()
	h["Content-Type"] = out.contentTypeHeader()
	h["Content-Length"] = contentLength(len(reply))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(reply)
}

// contentLengths are the Content-Length values of replies shorter than
// 1 KiB, shared as contentTypeHeader's are: a reply that small is most
// replies, and its header then costs no allocation.
var contentLengths = func() [][]string {
	vals := make([]string, 1024)
	hs := make([][]string, len(vals))
	for i := range vals {
		vals[i] = strconv.Itoa(i)
		hs[i] = vals[i : i+1 : i+1]
	}
	return hs
}()

// contentLength is n as a Content-Length header's values; never change
// them.
func contentLength(n int) []string {
	if n < len(contentLengths) {
		return contentLengths[n]
	}
	return []string{strconv.Itoa(n)}
}

// bodyPayload makes a request body the message's payload, from JSON or
// CBOR as contentType says, and reports the format it came in. An empty
// body is no payload, whatever its Content-Type says (curl -d ” sends a
// form type); so is a JSON body of white space.
func bodyPayload(contentType string, body []byte) ([]byte, format, error) {
	if len(body) == 0 {
		if f, err := requestFormat(contentType); err == nil {
			return nil, f, nil
		}
		return nil, formatJSON, nil
	}
	in, err := requestFormat(contentType)
	if err != nil {
		return nil, in, err
	}
	switch {
	case in == formatCBOR:
		return body, in, nil
	case !onlyJSONSpace(body):
		payload, err := jsonToCBOR(body)
		return payload, in, err
	}
	return nil, in, nil
}

// readBody reads the whole request body, up to the limit.
func (g *Gateway) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > g.maxBody {
		return nil, tooLarge(r.ContentLength, g.maxBody)
	}
	if r.ContentLength >= 0 {
		// A body of known length (net/http ends it there): read into a
		// buffer of that size, rather than one that grows from 512
		// bytes behind a limiting reader.
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, abi.NewError(abi.CodeBadRequest, "reading the request body: "+err.Error())
		}
		return body, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge(-1, g.maxBody)
	case err != nil:
		return nil, abi.NewError(abi.CodeBadRequest, "reading the request body: "+err.Error())
	}
	return body, nil
}

func tooLarge(size, limit int64) error {
	what := "the request body is"
	if size >= 0 {
		what += " " + strconv.FormatInt(size, 10) + " bytes,"
	}
	return abi.NewError(abi.CodeTooLarge, what+" over the limit of "+strconv.FormatInt(limit, 10)+" bytes")
}

// refJSON is an actor ref in listings.
type refJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// activations serves GET /v1/actors.
func (g *Gateway) activations(w http.ResponseWriter, r *http.Request) {
	refs := g.h.Activations()
	slices.SortFunc(refs, func(a, b abi.Ref) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	})
	list := make([]refJSON, len(refs))
	for i, ref := range refs {
		list[i] = refJSON{Type: ref.Type, ID: ref.ID}
	}
	writeJSON(w, http.StatusOK, map[string]any{"activations": list})
}

// reminderJSON describes a durable reminder in GET .../reminders.
type reminderJSON struct {
	Actor       string          `json:"actor"`
	Name        string          `json:"name"`
	Method      string          `json:"method"`
	Payload     json.RawMessage `json:"payload"`
	PayloadCBOR []byte          `json:"payload_cbor,omitempty"`
	Due         string          `json:"due"`
	DueUnixMS   int64           `json:"due_unix_ms"`
	Kind        string          `json:"kind"`
	EveryMS     int64           `json:"every_ms,omitempty"`
	Cron        string          `json:"cron,omitempty"`
	Missed      string          `json:"missed"`
}

// reminders serves GET /v1/actors/{type}/{id}/reminders.
func (g *Gateway) reminders(w http.ResponseWriter, r *http.Request) {
	ref := abi.Ref{Type: r.PathValue("type"), ID: r.PathValue("id")}
	infos, err := g.h.Reminders(r.Context(), ref)
	g.writeReminders(w, r, infos, err)
}

// maxReminderListing bounds GET /v1/reminders.
const maxReminderListing = 10000

// allReminders serves GET /v1/reminders?limit=N: every actor's reminders,
// the next due first (limit 1000 by default, at most 10,000).
func (g *Gateway) allReminders(w http.ResponseWriter, r *http.Request) {
	limit := 1000
	if q := r.URL.Query().Get("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > maxReminderListing {
			g.fail(w, r, abi.NewError(abi.CodeBadRequest, "limit "+strconv.Quote(q)+" must be a number from 1 to "+strconv.Itoa(maxReminderListing)))
			return
		}
		limit = n
	}
	infos, err := g.h.AllReminders(r.Context(), limit)
	g.writeReminders(w, r, infos, err)
}

func (g *Gateway) writeReminders(w http.ResponseWriter, r *http.Request, infos []host.ReminderInfo, err error) {
	if err != nil {
		g.fail(w, r, err)
		return
	}
	list := make([]reminderJSON, len(infos))
	for i, rm := range infos {
		j := reminderJSON{Actor: rm.Actor, Name: rm.Name, Method: rm.Method, Payload: json.RawMessage("null"),
			Due: rm.Due.UTC().Format(time.RFC3339Nano), DueUnixMS: rm.Due.UnixMilli(), Kind: "once", Missed: rm.Missed}
		switch {
		case rm.Every > 0:
			j.Kind, j.EveryMS = "every", rm.Every.Milliseconds()
		case rm.Cron != "":
			j.Kind, j.Cron = "cron", rm.Cron
		}
		if len(rm.Payload) > 0 {
			if p, err := cborToJSON(rm.Payload); err == nil {
				j.Payload = p
			} else {
				j.PayloadCBOR = rm.Payload // base64 in JSON
			}
		}
		list[i] = j
	}
	writeJSON(w, http.StatusOK, map[string]any{"reminders": list})
}

// typeJSON describes a deployed type in GET /v1/types.
type typeJSON struct {
	Name          string `json:"name"`
	Source        string `json:"source"`
	ModuleSize    int    `json:"module_size"`
	ModuleSHA256  string `json:"module_sha256"`
	Mailbox       int    `json:"mailbox"`
	MaxMessage    int64  `json:"max_message"`
	MaxMemory     int64  `json:"max_memory"`
	MaxTables     int64  `json:"max_table_entries"`
	TurnTimeoutMS int64  `json:"turn_timeout_ms"`
	IdleTimeoutMS int64  `json:"idle_timeout_ms"`
	AskTimeoutMS  int64  `json:"ask_timeout_ms"`
}

// types serves GET /v1/types.
func (g *Gateway) types(w http.ResponseWriter, r *http.Request) {
	infos := g.h.Types()
	list := make([]typeJSON, len(infos))
	for i, t := range infos {
		c := t.Config
		list[i] = typeJSON{
			Name:          t.Name,
			Source:        t.Source,
			ModuleSize:    t.ModuleSize,
			ModuleSHA256:  t.ModuleSHA256,
			Mailbox:       c.Mailbox,
			MaxMessage:    c.MaxMessage,
			MaxMemory:     c.MaxMemory,
			MaxTables:     c.MaxTableEntries,
			TurnTimeoutMS: c.TurnTimeout.Milliseconds(),
			IdleTimeoutMS: c.IdleTimeout.Milliseconds(),
			AskTimeoutMS:  c.AskTimeout.Milliseconds(),
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"types": list})
}

// healthz serves GET /healthz: the process is up.
func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz serves GET /readyz: the host takes messages.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	switch g.state.Load() {
	case stateReady:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	case stateStarting:
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "starting", "deployed": g.deployed.Load(), "types": g.typeCount.Load()})
	default:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "stopping"})
	}
}

// statusOf maps an error code to its HTTP status (the table in docs/design.md);
// codes of the actor's own are application errors: 422.
func statusOf(code string) int {
	switch code {
	case abi.CodeBadRequest:
		return http.StatusBadRequest
	case abi.CodeUnknownType, abi.CodeUnknownMethod:
		return http.StatusNotFound
	case abi.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case abi.CodeMailboxFull:
		return http.StatusTooManyRequests
	case abi.CodeTimeout:
		return http.StatusGatewayTimeout
	case abi.CodeTurnTimeout, abi.CodeMemoryExhausted, abi.CodeTrapped, abi.CodeBadReply:
		return http.StatusInternalServerError
	case abi.CodeDeadlock:
		return http.StatusLoopDetected
	case abi.CodeUnavailable:
		return http.StatusServiceUnavailable
	case abi.CodeUnauthorized:
		return http.StatusUnauthorized
	}
	if abi.IsSystemCode(code) {
		return http.StatusInternalServerError // a code added to abi but not here
	}
	return http.StatusUnprocessableEntity
}

// errorBody is the body of every error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// fail answers with err as an error body and its status.
func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *abi.Error
	status := 0
	var he *httpError
	switch {
	case errors.As(err, &he):
		e, status = he.err, he.status
	case errors.As(err, &e):
		status = statusOf(e.Code)
	default:
		e = abi.NewError(abi.CodeUnavailable, err.Error())
		status = http.StatusServiceUnavailable
	}
	if rec, ok := w.(*recorder); ok {
		rec.err = e
	}
	var body errorBody
	body.Error.Code, body.Error.Message = e.Code, e.Message
	writeJSON(w, status, body)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // only plain types reach here
		buf.Reset()
		buf.WriteString(`{"error":{"code":"unavailable","message":"encoding the answer failed"}}` + "\n")
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
