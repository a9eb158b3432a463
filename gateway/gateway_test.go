package gateway_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testlog"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

var (
	cacheDir string // shared by the package's hosts so each module compiles once

	hostOnce   sync.Once
	sharedHost *host.Host
	hostErr    error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wactor-gateway-test-cache-")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	if sharedHost != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := sharedHost.Close(ctx); err != nil {
			println("closing the host:", err.Error())
			code = 1
		}
		cancel()
	}
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("github.com/golang/glog.(*fileSink).flushDaemon"),
			goleak.IgnoreAnyFunction("github.com/dgraph-io/ristretto/v2/z.(*AllocatorPool).freeupAllocators")); err != nil {
			println("goleak:", err.Error())
			code = 1
		}
	}
	os.Exit(code)
}

// theHost returns the package's host with counter, greeter and hostile
// deployed, built on first use and closed by TestMain. Tests use their own
// actor ids.
func theHost(t testing.TB) *host.Host {
	t.Helper()
	hostOnce.Do(func() {
		ctx := context.Background()
		h, err := host.New(ctx, host.Config{Store: memstore.New(), CacheDir: cacheDir})
		if err != nil {
			hostErr = err
			return
		}
		sharedHost = h
		for _, name := range []string{"counter", "greeter", "hostile"} {
			tc := host.TypeConfig{Name: name, Module: testwasm.Go(t, name), Source: name + ".wasm"}
			if name == "hostile" {
				tc.TurnTimeout = 2 * time.Second
			}
			if hostErr = h.Deploy(ctx, tc); hostErr != nil {
				return
			}
		}
		hostErr = h.Start(ctx)
	})
	require.NoError(t, hostErr)
	return sharedHost
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// serve starts an HTTP server with a gateway over the package's host.
func serve(t *testing.T, cfg gateway.Config) (*httptest.Server, *gateway.Gateway) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	g := gateway.New(theHost(t), cfg)
	g.SetReady(true)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv, g
}

// id returns an actor id of the test's own.
func id(t *testing.T) string { return strings.NewReplacer("/", ".", " ", "_").Replace(t.Name()) }

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; headers are name, value pairs ("Host" sets the
// request's Host).
func do(t *testing.T, srv *httptest.Server, method, path string, body []byte, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Add(headers[i], headers[i+1])
	}
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func post(t *testing.T, srv *httptest.Server, path, body string, headers ...string) response {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return do(t, srv, http.MethodPost, path, b, headers...)
}

// okJSON checks a 200 JSON answer and returns its body.
func okJSON(t *testing.T, r response) string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	return strings.TrimSpace(string(r.body))
}

// wantError checks an error answer and returns its message.
func wantError(t *testing.T, r response, status int, code string) string {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	var body struct {
		Error struct{ Code, Message string }
	}
	require.NoError(t, json.Unmarshal(r.body, &body), "body: %s", r.body)
	assert.Equal(t, code, body.Error.Code)
	assert.NotEmpty(t, body.Error.Message)
	return body.Error.Message
}

func TestAskJSON(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	path := "/v1/actors/counter/" + id(t)
	assert.JSONEq(t, `{"n":7}`, okJSON(t, post(t, srv, path+"/add", `{"n":7}`)))
	assert.JSONEq(t, `{"n":14}`, okJSON(t, post(t, srv, path+"/add", `{"n": 7}`, "Content-Type", "application/json; charset=utf-8")))
	assert.JSONEq(t, `{"n":14}`, okJSON(t, post(t, srv, path+"/get", ``)))

	got := okJSON(t, post(t, srv, "/v1/actors/greeter/"+id(t)+"/hello", `{"name":"wörld 🌍"}`))
	assert.JSONEq(t, `{"greeting":"Hello, wörld 🌍!"}`, got)
}

func TestAskCBOR(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	path := "/v1/actors/counter/" + id(t)
	cborBody := func(v any) string {
		b, err := cbor.Marshal(v)
		require.NoError(t, err)
		return string(b)
	}
	decode := func(r response) map[string]any {
		t.Helper()
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "application/cbor", r.header.Get("Content-Type"))
		var m map[string]any
		require.NoError(t, cbor.Unmarshal(r.body, &m))
		return m
	}
	assert.EqualValues(t, map[string]any{"n": uint64(7)},
		decode(post(t, srv, path+"/add", cborBody(map[string]int{"n": 7}), "Content-Type", "application/cbor")))
	assert.EqualValues(t, map[string]any{"n": uint64(14)},
		decode(post(t, srv, path+"/add", cborBody(map[string]int{"n": 7}), "Content-Type", "application/cbor")))

	// Accept overrides the request's format, both ways.
	assert.EqualValues(t, map[string]any{"n": uint64(14)},
		decode(post(t, srv, path+"/get", "", "Accept", "application/cbor")))
	assert.EqualValues(t, map[string]any{"n": uint64(21)},
		decode(post(t, srv, path+"/add", `{"n":7}`, "Accept", "application/json;q=0.5, application/cbor")))
	r := post(t, srv, path+"/add", cborBody(map[string]int{"n": 7}), "Content-Type", "application/cbor", "Accept", "application/json")
	assert.JSONEq(t, `{"n":28}`, okJSON(t, r))
	// An empty CBOR request gets a CBOR reply.
	assert.EqualValues(t, map[string]any{"n": uint64(28)},
		decode(post(t, srv, path+"/get", "", "Content-Type", "application/cbor")))
	// Accept */* keeps the request's format.
	assert.JSONEq(t, `{"n":28}`, okJSON(t, post(t, srv, path+"/get", "", "Accept", "text/html, */*;q=0.8")))
}

func TestErrors(t *testing.T) {
	srv, g := serve(t, gateway.Config{MaxBody: 256})
	ref := "/v1/actors/hostile/" + id(t)
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers []string
		status  int
		code    string
		message string // a substring of the message
	}{
		{"malformed JSON", "POST", "/v1/actors/counter/a/add", `{"n":7,}`, nil,
			400, abi.CodeBadRequest, "line 1, column 8"},
		{"malformed CBOR", "POST", "/v1/actors/counter/a/add", "\xa1\x61", []string{"Content-Type", "application/cbor"},
			400, abi.CodeBadRequest, "CBOR"},
		{"unknown type", "POST", "/v1/actors/nosuch/a/add", `{}`, nil,
			404, abi.CodeUnknownType, "nosuch"},
		{"unknown method", "POST", "/v1/actors/counter/a/nosuch", `{}`, nil,
			404, abi.CodeUnknownMethod, "nosuch"},
		{"bad type", "POST", "/v1/actors/-counter/a/add", `{}`, nil,
			400, abi.CodeBadRequest, "actor type"},
		{"id with a control character", "POST", "/v1/actors/counter/a%01b/add", `{}`, nil,
			400, abi.CodeBadRequest, "control character"},
		{"application error", "POST", ref + "/fail_after_write", ``, nil,
			422, "refused", "refuses"},
		{"trap", "POST", ref + "/panic", ``, nil,
			500, abi.CodeTrapped, ""},
		{"body too large", "POST", "/v1/actors/counter/a/add", `{"n":"` + strings.Repeat("x", 300) + `"}`, nil,
			413, abi.CodeTooLarge, "256 bytes"},
		{"unsupported content type", "POST", "/v1/actors/counter/a/add", `n=7`, []string{"Content-Type", "text/plain"},
			415, abi.CodeBadRequest, "Content-Type"},
		{"form content type read as JSON", "POST", "/v1/actors/counter/a/add", `n=7`, []string{"Content-Type", "application/x-www-form-urlencoded"},
			400, abi.CodeBadRequest, "JSON"},
		{"not acceptable", "POST", "/v1/actors/counter/a/get", ``, []string{"Accept", "text/html"},
			406, abi.CodeBadRequest, "Accept"},
		{"idempotency key too long", "POST", "/v1/actors/counter/a/get", ``, []string{"Idempotency-Key", strings.Repeat("k", 201)},
			400, abi.CodeBadRequest, "Idempotency-Key"},
		{"idempotency key not printable", "POST", "/v1/actors/counter/a/get", ``, []string{"Idempotency-Key", "k\u00e9y"},
			400, abi.CodeBadRequest, "Idempotency-Key"},
		{"two idempotency keys", "POST", "/v1/actors/counter/a/get", ``, []string{"Idempotency-Key", "a", "Idempotency-Key", "b"},
			400, abi.CodeBadRequest, "Idempotency-Key"},
		{"wrong method", "GET", "/v1/actors/counter/a/get", ``, nil,
			405, abi.CodeBadRequest, "use POST"},
		{"wrong method on a listing", "POST", "/v1/types", ``, nil,
			405, abi.CodeBadRequest, "use GET"},
		{"unknown route", "GET", "/v2/nothing", ``, nil,
			404, abi.CodeBadRequest, "no route GET /v2/nothing"},
		{"missing method", "POST", "/v1/actors/counter/a", ``, nil,
			404, abi.CodeBadRequest, "no route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			msg := wantError(t, do(t, srv, tt.method, tt.path, body, tt.headers...), tt.status, tt.code)
			assert.Contains(t, msg, tt.message)
		})
	}

	// A body of unknown length is cut at the limit too.
	req := httptest.NewRequest("POST", "/v1/actors/counter/a/add", strings.NewReader(`{"n":"`+strings.Repeat("x", 300)+`"}`))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.Contains(t, rec.Body.String(), `"too_large"`)

	r := do(t, srv, "DELETE", "/v1/actors/counter/a/get", nil)
	assert.Equal(t, "POST", r.header.Get("Allow"))
	r = do(t, srv, "POST", "/healthz", nil)
	assert.Equal(t, "GET, HEAD", r.header.Get("Allow"))

	// The failed turns committed nothing.
	assert.JSONEq(t, `{}`, okJSON(t, post(t, srv, ref+"/read", `{"key":"dirty"}`)))
}

func TestTellAsync(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	ref := "/v1/actors/hostile/" + id(t)
	r := post(t, srv, ref+"/write", `{"key":"k","value":42}`, "Prefer", "wait=5, respond-async")
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	assert.JSONEq(t, `{"status":"accepted"}`, string(r.body))
	assert.Equal(t, "respond-async", r.header.Get("Preference-Applied"))

	assert.Eventually(t, func() bool {
		return okJSON(t, post(t, srv, ref+"/read", `{"key":"k"}`)) == `{"value":42}`
	}, 10*time.Second, 10*time.Millisecond)

	// A tell is checked like an ask before it is stored.
	wantError(t, post(t, srv, "/v1/actors/nosuch/a/write", `{}`, "Prefer", "respond-async"), 404, abi.CodeUnknownType)
	wantError(t, post(t, srv, ref+"/write", `{`, "Prefer", "respond-async"), 400, abi.CodeBadRequest)
}

func TestIdempotencyKey(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	path := "/v1/actors/counter/" + id(t)
	assert.JSONEq(t, `{"n":1}`, okJSON(t, post(t, srv, path+"/add", `{"n":1}`, "Idempotency-Key", "order-1")))
	// A retry gets the recorded reply and adds nothing; the quoted form is
	// the same key.
	assert.JSONEq(t, `{"n":1}`, okJSON(t, post(t, srv, path+"/add", `{"n":1}`, "Idempotency-Key", `"order-1"`)))
	assert.JSONEq(t, `{"n":1}`, okJSON(t, post(t, srv, path+"/get", ``)))

	for range 2 {
		r := post(t, srv, path+"/add", `{"n":10}`, "Idempotency-Key", "order-2", "Prefer", "respond-async")
		assert.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	}
	assert.Eventually(t, func() bool {
		return okJSON(t, post(t, srv, path+"/get", ``)) == `{"n":11}`
	}, 10*time.Second, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // a second application would show now
	assert.JSONEq(t, `{"n":11}`, okJSON(t, post(t, srv, path+"/get", ``)))
}

func TestListings(t *testing.T) {
	srv, g := serve(t, gateway.Config{})
	okJSON(t, post(t, srv, "/v1/actors/counter/"+id(t)+"-b/get", ""))
	okJSON(t, post(t, srv, "/v1/actors/counter/"+id(t)+"-a/get", ""))
	okJSON(t, post(t, srv, "/v1/actors/greeter/"+id(t)+"/hello", `{"name":"x"}`))

	var acts struct {
		Activations []struct{ Type, ID string } `json:"activations"`
	}
	require.NoError(t, json.Unmarshal([]byte(okJSON(t, do(t, srv, "GET", "/v1/actors", nil))), &acts))
	var mine []string
	for i, a := range acts.Activations {
		if i > 0 {
			prev := acts.Activations[i-1]
			assert.True(t, prev.Type < a.Type || prev.Type == a.Type && prev.ID < a.ID, "not sorted: %v", acts.Activations)
		}
		if strings.HasPrefix(a.ID, id(t)) {
			mine = append(mine, a.Type+"/"+a.ID)
		}
	}
	assert.Equal(t, []string{"counter/" + id(t) + "-a", "counter/" + id(t) + "-b", "greeter/" + id(t)}, mine)

	var types struct {
		Types []map[string]any `json:"types"`
	}
	require.NoError(t, json.Unmarshal([]byte(okJSON(t, do(t, srv, "GET", "/v1/types", nil))), &types))
	require.Len(t, types.Types, 3)
	c := types.Types[0]
	assert.Equal(t, "counter", c["name"])
	assert.Equal(t, "counter.wasm", c["source"])
	assert.Greater(t, c["module_size"], 1000.0)
	assert.Regexp(t, "^[0-9a-f]{64}$", c["module_sha256"])
	assert.EqualValues(t, host.DefaultMaxMessage, c["max_message"])
	assert.EqualValues(t, host.DefaultMaxMemory, c["max_memory"])
	assert.EqualValues(t, host.DefaultMaxTableEntries(host.DefaultMaxMemory), c["max_table_entries"])
	assert.EqualValues(t, host.DefaultTurnTimeout.Milliseconds(), c["turn_timeout_ms"])
	assert.EqualValues(t, host.DefaultAskTimeout.Milliseconds(), c["ask_timeout_ms"])
	for _, k := range []string{"mailbox", "idle_timeout_ms"} {
		assert.Contains(t, c, k)
	}
	assert.Equal(t, "greeter", types.Types[1]["name"])
	assert.Equal(t, "hostile", types.Types[2]["name"])
	assert.EqualValues(t, 2000, types.Types[2]["turn_timeout_ms"])

	assert.JSONEq(t, `{"status":"ok"}`, okJSON(t, do(t, srv, "GET", "/healthz", nil)))
	assert.Equal(t, http.StatusOK, do(t, srv, "HEAD", "/healthz", nil).status)
	assert.JSONEq(t, `{"status":"ready"}`, okJSON(t, do(t, srv, "GET", "/readyz", nil)))
	g.SetReady(false)
	r := do(t, srv, "GET", "/readyz", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.JSONEq(t, `{"status":"stopping"}`, string(r.body))
}

// While starting, /healthz answers, /readyz reports the progress, and the
// other routes answer 503 unavailable with Retry-After.
func TestReadyzStarting(t *testing.T) {
	g := gateway.New(theHost(t), gateway.Config{Logger: testLogger(t)})
	get := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	rec := get("GET", "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.JSONEq(t, `{"status":"starting","deployed":0,"types":0}`, rec.Body.String())
	g.SetProgress(3, 16)
	rec = get("GET", "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.JSONEq(t, `{"status":"starting","deployed":3,"types":16}`, rec.Body.String())
	assert.Equal(t, http.StatusOK, get("GET", "/healthz").Code)

	rec = get("POST", "/v1/actors/counter/a/get")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Contains(t, rec.Body.String(), `"code":"unavailable"`)
	assert.Contains(t, rec.Body.String(), "3 of 16 types deployed")
	assert.Equal(t, http.StatusServiceUnavailable, get("GET", "/v1/types").Code)

	g.SetReady(true)
	assert.Equal(t, http.StatusOK, get("GET", "/readyz").Code)
	assert.Equal(t, http.StatusOK, get("POST", "/v1/actors/counter/a/get").Code)
}

func TestLogging(t *testing.T) {
	var logs testlog.Buffer
	srv, _ := serve(t, gateway.Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	okJSON(t, do(t, srv, "GET", "/healthz", nil))
	wantError(t, post(t, srv, "/v1/actors/hostile/"+id(t)+"/panic", ""), 500, abi.CodeTrapped)
	out := logs.String()
	assert.Contains(t, out, "level=DEBUG msg=\"http request\" method=GET path=/healthz status=200 duration=")
	assert.Contains(t, out, "level=WARN msg=\"http request failed\" method=POST path=/v1/actors/hostile/TestLogging/panic status=500")
	assert.Contains(t, out, "code=trapped")
}

func TestPayloads(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	ref := "/v1/actors/hostile/" + id(t)
	cborType := []string{"Content-Type", "application/cbor"}
	unhex := func(s string) string {
		b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		require.NoError(t, err)
		return string(b)
	}

	// A byte string in a reply becomes base64.
	r := post(t, srv, ref+"/write", unhex("a2 636b6579 6162 6576616c7565 43 010203"), cborType...) // {"key":"b","value":h'010203'}
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assert.Equal(t, `{"value":"AQID"}`, okJSON(t, post(t, srv, ref+"/read", `{"key":"b"}`)))

	// Big integers and floats survive both ways.
	okJSON(t, post(t, srv, ref+"/write", `{"key":"n","value":[18446744073709551616,-9007199254740993,1.0,0.1]}`))
	assert.Equal(t, `{"value":[18446744073709551616,-9007199254740993,1.0,0.1]}`, okJSON(t, post(t, srv, ref+"/read", `{"key":"n"}`)))

	// A reply JSON cannot show is a bad_reply that says the turn committed,
	// and comes as it is in CBOR.
	r = post(t, srv, ref+"/write", unhex("a2 636b6579 6178 6576616c7565 a1 41 01 01"), cborType...) // {"key":"x","value":{h'01':1}}
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	msg := wantError(t, post(t, srv, ref+"/read", `{"key":"x"}`), 500, abi.CodeBadReply)
	assert.Contains(t, msg, "committed")
	assert.Contains(t, msg, "Accept: application/cbor")
	r = post(t, srv, ref+"/read", `{"key":"x"}`, "Accept", "application/cbor")
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, unhex("a1 6576616c7565 a1 41 01 01"), string(r.body))

	// A one-byte CBOR body that looks like white space is still a payload
	// (0x20 is -1); a JSON body of white space is none.
	msg = wantError(t, post(t, srv, ref+"/read", "\x20", cborType...), 400, abi.CodeBadRequest)
	assert.Contains(t, msg, "not a CBOR map")
	assert.Equal(t, `{}`, okJSON(t, post(t, srv, ref+"/read", " \n")))
	// An empty body with a form Content-Type (curl -d '') is no payload.
	assert.Equal(t, `{}`, okJSON(t, post(t, srv, ref+"/read", "", "Content-Type", "application/x-www-form-urlencoded")))

	// An id may hold '/', escaped in the path.
	assert.JSONEq(t, `{"n":3}`, okJSON(t, post(t, srv, "/v1/actors/counter/"+id(t)+"%2Fsub/add", `{"n":3}`)))
	assert.Contains(t, okJSON(t, do(t, srv, "GET", "/v1/actors", nil)), `{"type":"counter","id":"`+id(t)+`/sub"}`)
}
