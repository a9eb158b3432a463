package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/gateway"
)

const testToken = "s3cret-token-of-32-bytes-exactly" // 32 bytes

// routeCase is one pattern of the API, a request that reaches it, and
// whether it is public.
type routeCase struct {
	pattern      string
	method, path string
	body         string
	public       bool
	// page: refused, it answers 401 with the dashboard's login page
	// rather than an error body.
	page bool
	want int // the status with the right token (or none, for a public route)
}

// allRoutes lists every pattern the gateway registers. Adding a route to
// the gateway without adding it here fails TestEveryRouteIsClassified.
func allRoutes(t *testing.T) []routeCase {
	ref := "counter/" + id(t)
	return []routeCase{
		{pattern: "POST /v1/actors/{type}/{id}/{method}", method: "POST", path: "/v1/actors/" + ref + "/get", public: true, want: 200},
		{pattern: "/v1/actors/{type}/{id}/{method}", method: "PUT", path: "/v1/actors/" + ref + "/get", public: true, want: 405},
		{pattern: "GET /v1/actors/{type}/{id}/reminders", method: "GET", path: "/v1/actors/" + ref + "/reminders", want: 200},
		{pattern: "GET /v1/actors", method: "GET", path: "/v1/actors", want: 200},
		{pattern: "/v1/actors", method: "POST", path: "/v1/actors", want: 405},
		{pattern: "GET /v1/types", method: "GET", path: "/v1/types", want: 200},
		{pattern: "/v1/types", method: "DELETE", path: "/v1/types", want: 405},
		{pattern: "GET /v1/cluster", method: "GET", path: "/v1/cluster", want: 200},
		{pattern: "/v1/cluster", method: "POST", path: "/v1/cluster", want: 405},
		{pattern: "GET /v1/reminders", method: "GET", path: "/v1/reminders", want: 200},
		{pattern: "/v1/reminders", method: "POST", path: "/v1/reminders", want: 405},
		{pattern: "GET /v1/deadletters", method: "GET", path: "/v1/deadletters", want: 200},
		{pattern: "/v1/deadletters", method: "PUT", path: "/v1/deadletters", want: 405},
		{pattern: "POST /v1/deadletters/{id}/replay", method: "POST", path: "/v1/deadletters/nosuch/replay", want: 400},
		{pattern: "/v1/deadletters/{id}/replay", method: "GET", path: "/v1/deadletters/nosuch/replay", want: 405},
		{pattern: "DELETE /v1/deadletters/{id}", method: "DELETE", path: "/v1/deadletters/nosuch", want: 400},
		{pattern: "GET /v1/deadletters/{id}", method: "GET", path: "/v1/deadletters/nosuch", want: 400},
		{pattern: "/v1/deadletters/{id}", method: "PUT", path: "/v1/deadletters/nosuch", want: 405},
		{pattern: "GET /v1/actors/{type}/{id}/state", method: "GET", path: "/v1/actors/" + ref + "/state", want: 200},
		{pattern: "POST /v1/topics/{topic}", method: "POST", path: "/v1/topics/auth.test", public: true, want: 202},
		{pattern: "/v1/topics/{topic}", method: "GET", path: "/v1/topics/auth.test", public: true, want: 405},
		// A malformed topic: a definite answer, where a good one streams.
		{pattern: "GET /v1/topics/{topic}/events", method: "GET", path: "/v1/topics/bad*topic/events", want: 400},
		{pattern: "/v1/topics/{topic}/events", method: "POST", path: "/v1/topics/auth.test/events", want: 405},
		{pattern: "GET /ui", method: "GET", path: "/ui", public: true, want: 303},
		{pattern: "/ui", method: "POST", path: "/ui", public: true, want: 405},
		{pattern: "GET /ui/login", method: "GET", path: "/ui/login", public: true, want: 200},
		{pattern: "POST /ui/login", method: "POST", path: "/ui/login", body: "token=nope", public: true, want: 401},
		{pattern: "/ui/login", method: "PUT", path: "/ui/login", public: true, want: 405},
		{pattern: "POST /ui/logout", method: "POST", path: "/ui/logout", public: true, want: 303},
		{pattern: "/ui/logout", method: "GET", path: "/ui/logout", public: true, want: 405},
		{pattern: "GET /ui/style.css", method: "GET", path: "/ui/style.css", public: true, want: 200},
		{pattern: "/ui/style.css", method: "POST", path: "/ui/style.css", public: true, want: 405},
		{pattern: "/ui/", method: "GET", path: "/ui/", page: true, want: 200},
		{pattern: "GET /healthz", method: "GET", path: "/healthz", public: true, want: 200},
		{pattern: "/healthz", method: "POST", path: "/healthz", public: true, want: 405},
		{pattern: "GET /readyz", method: "GET", path: "/readyz", public: true, want: 200},
		{pattern: "/readyz", method: "POST", path: "/readyz", public: true, want: 405},
		{pattern: "GET /metrics", method: "GET", path: "/metrics", want: 404}, // metrics off: no Config.Metrics
		{pattern: "/metrics", method: "POST", path: "/metrics", want: 405},
		{pattern: "/", method: "GET", path: "/v2/nosuch", public: true, want: 404},
	}
}

// TestEveryRouteIsClassified fails when the gateway serves a pattern that
// allRoutes does not list (so TestAuthRoutes would not attack it), or
// classifies one differently.
func TestEveryRouteIsClassified(t *testing.T) {
	g := gateway.New(theHost(t), gateway.Config{Token: testToken})
	got := gateway.PublicPatterns(g)
	want := map[string]bool{}
	for _, rc := range allRoutes(t) {
		want[rc.pattern] = rc.public
	}
	for p, public := range got {
		w, listed := want[p]
		if !assert.True(t, listed, "the gateway serves %q, which allRoutes does not list: add it, with a request and whether it is public", p) {
			continue
		}
		assert.Equal(t, w, public, "pattern %q: public = %v, want %v", p, public, w)
	}
	for p := range want {
		_, served := got[p]
		assert.True(t, served, "allRoutes lists %q, which the gateway does not serve", p)
	}
}

// TestAuthRoutes sends a request to every route without a token, with a
// wrong token, with tokens of other lengths, with another scheme and with
// the right token: control routes answer 401 to all but the last, public
// routes never do.
func TestAuthRoutes(t *testing.T) {
	srv, _ := serve(t, gateway.Config{Token: testToken})
	bad := []struct {
		name   string
		header []string
	}{
		{"no token", nil},
		{"wrong token, same length", []string{"Authorization", "Bearer " + strings.Repeat("x", len(testToken))}},
		{"a prefix of the token", []string{"Authorization", "Bearer " + testToken[:16]}},
		{"the token and more", []string{"Authorization", "Bearer " + testToken + "x"}},
		{"empty bearer", []string{"Authorization", "Bearer "}},
		{"basic scheme", []string{"Authorization", "Basic " + testToken}},
		{"the token without a scheme", []string{"Authorization", testToken}},
		{"two headers, the right one second", []string{"Authorization", "Bearer nope", "Authorization", "Bearer " + testToken}},
	}
	for _, rc := range allRoutes(t) {
		t.Run(rc.method+" "+rc.path, func(t *testing.T) {
			for _, b := range bad {
				r := do(t, srv, rc.method, rc.path, []byte(rc.body), b.header...)
				if rc.public {
					assert.Equal(t, rc.want, r.status, "%s: body %s", b.name, r.body)
					continue
				}
				if rc.page {
					assert.Equal(t, http.StatusUnauthorized, r.status, b.name)
					assert.Contains(t, string(r.body), `action="/ui/login"`, "%s: the login page", b.name)
					assert.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer"), b.name)
					continue
				}
				msg := wantError(t, r, http.StatusUnauthorized, "unauthorized")
				assert.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer"), "%s: WWW-Authenticate %q", b.name, r.header.Get("WWW-Authenticate"))
				assert.NotContains(t, msg, testToken, b.name)
				assert.Empty(t, r.header.Get("Allow"), "%s: a refused request learns nothing of the route", b.name)
			}
			r := do(t, srv, rc.method, rc.path, []byte(rc.body), "Authorization", "Bearer "+testToken)
			assert.Equal(t, rc.want, r.status, "with the token: body %s", r.body)
			// The scheme is case-insensitive (RFC 7235).
			r = do(t, srv, rc.method, rc.path, []byte(rc.body), "Authorization", "bearer "+testToken)
			assert.Equal(t, rc.want, r.status, "with the token, scheme in lower case: body %s", r.body)
		})
	}
}

// TestNoTokenLeavesControlOpen: without a token the gateway is open, as an
// embedder on loopback expects.
func TestNoTokenLeavesControlOpen(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	for _, rc := range allRoutes(t) {
		r := do(t, srv, rc.method, rc.path, []byte(rc.body))
		want := rc.want
		if rc.pattern == "POST /ui/login" || rc.pattern == "GET /ui/login" {
			want = http.StatusSeeOther // no token to check: straight to the dashboard
		}
		assert.Equal(t, want, r.status, "%s %s: body %s", rc.method, rc.path, r.body)
	}
}

// TestRefusedDeadLetterRequestsChangeNothing makes a dead letter, then
// tries to replay and delete it with a wrong token and with none: it is
// still there, unchanged, and only the right token deletes it.
func TestRefusedDeadLetterRequestsChangeNothing(t *testing.T) {
	srv, _ := serve(t, gateway.Config{Token: testToken})
	auth := []string{"Authorization", "Bearer " + testToken}
	dead, list := oneDeadLetter(t, srv, auth...)

	wrong := []string{"Authorization", "Bearer " + strings.Repeat("y", len(testToken))}
	for _, h := range [][]string{nil, wrong} {
		wantError(t, post(t, srv, "/v1/deadletters/"+dead[0].ID+"/replay", "", h...), http.StatusUnauthorized, "unauthorized")
		wantError(t, do(t, srv, http.MethodDelete, "/v1/deadletters/"+dead[0].ID, nil, h...), http.StatusUnauthorized, "unauthorized")
		wantError(t, do(t, srv, http.MethodGet, "/v1/deadletters", nil, h...), http.StatusUnauthorized, "unauthorized")
	}
	// A replay would have made a new dead letter (the actor refuses again)
	// with a new id; give it the time to.
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, dead, list(auth...), "refused requests changed the dead letters")

	okJSON(t, do(t, srv, http.MethodDelete, "/v1/deadletters/"+dead[0].ID, nil, auth...))
	assert.Empty(t, list(auth...))
}

// BenchmarkGuard measures what the token costs a public route (nothing:
// no guard is installed) and a control route (one SHA-256 and a
// comparison), against the same routes without a token.
func BenchmarkGuard(b *testing.B) {
	h := theHost(b)
	for _, bc := range []struct{ name, token, path string }{
		{"public/no-token", "", "/healthz"},
		{"public/token", testToken, "/healthz"},
		{"control/no-token", "", "/v1/types"},
		{"control/token", testToken, "/v1/types"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g := gateway.New(h, gateway.Config{Token: bc.token})
			req := httptest.NewRequest(http.MethodGet, bc.path, nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			for b.Loop() {
				w := httptest.NewRecorder()
				g.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

// TestOpenControlPlaneRefusesOtherSites attacks a gateway without a token
// as a web page of another site would through the operator's browser: a
// cross-origin form POST that replays or deletes a dead letter, and a
// page whose name resolves to 127.0.0.1 (DNS rebinding). Each gets 403
// and the dead letter is unchanged; the same requests from the node's own
// origin, or from a client that is no browser, still work.
func TestOpenControlPlaneRefusesOtherSites(t *testing.T) {
	srv, _ := serve(t, gateway.Config{LoopbackHostOnly: true})
	dead, list := oneDeadLetter(t, srv)
	ref := dead[0].Target

	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	for _, h := range [][]string{
		append([]string{"Origin", "http://evil.example"}, form...),
		append([]string{"Sec-Fetch-Site", "cross-site"}, form...),
		append([]string{"Origin", "null"}, form...),
		{"Host", "evil.example" + port},
		{"Host", "evil.example" + port, "Origin", "http://evil.example" + port, "Sec-Fetch-Site", "same-origin"},
	} {
		wantError(t, post(t, srv, "/v1/deadletters/"+dead[0].ID+"/replay", "a=b", h...), http.StatusForbidden, "unauthorized")
		wantError(t, do(t, srv, http.MethodDelete, "/v1/deadletters/"+dead[0].ID, nil, h...), http.StatusForbidden, "unauthorized")
	}
	for _, path := range []string{"/v1/deadletters", "/v1/actors/" + ref + "/state", "/ui/", "/metrics"} {
		wantError(t, do(t, srv, http.MethodGet, path, nil, "Host", "rebound.example"+port), http.StatusForbidden, "unauthorized")
	}
	// Public routes answer whatever the Host: a caller of actors needs no
	// name of ours.
	assert.Equal(t, http.StatusOK, do(t, srv, http.MethodGet, "/healthz", nil, "Host", "rebound.example"+port).status)
	time.Sleep(200 * time.Millisecond) // room for a replay's new dead letter
	assert.Equal(t, dead, list(), "refused requests changed the dead letters")

	assert.Equal(t, dead, list("Host", "localhost"+port))
	assert.Equal(t, dead, list("Host", "[::1]"+port, "Origin", "http://evil.example"), "a read from another origin is the browser's to hide")
	okJSON(t, do(t, srv, http.MethodDelete, "/v1/deadletters/"+dead[0].ID, nil, "Origin", srv.URL, "Sec-Fetch-Site", "same-origin"))
	assert.Empty(t, list())
}

// oneDeadLetter makes a dead letter of an actor of the test's own (a tell
// needs no token) and waits for it; it returns it, and a function that
// lists that actor's dead letters with headers.
func oneDeadLetter(t *testing.T, srv *httptest.Server, headers ...string) ([]deadLetter, func(...string) []deadLetter) {
	t.Helper()
	ref := "hostile/" + id(t)
	r := post(t, srv, "/v1/actors/"+ref+"/fail_after_write", `{"why":"test"}`, "Prefer", "respond-async")
	require.Equal(t, http.StatusAccepted, r.status, "a tell needs no token; body: %s", r.body)
	list := func(headers ...string) []deadLetter {
		t.Helper()
		r := do(t, srv, http.MethodGet, "/v1/deadletters", nil, headers...)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var body struct{ Deadletters []deadLetter }
		require.NoError(t, json.Unmarshal(r.body, &body))
		return slices.DeleteFunc(body.Deadletters, func(d deadLetter) bool { return d.Target != ref })
	}
	var dead []deadLetter
	require.Eventually(t, func() bool { dead = list(headers...); return len(dead) == 1 }, 10*time.Second, 10*time.Millisecond)
	return dead, list
}

// TestActorCallRefusesOtherSites: calling actors is public, but a page
// of another site cannot make the operator's browser do it (a form, or a
// body without a type), token or not; a program, which sends neither
// Origin nor Sec-Fetch-Site, still can.
func TestActorCallRefusesOtherSites(t *testing.T) {
	for _, cfg := range []gateway.Config{{}, {Token: testToken}} {
		srv, _ := serve(t, cfg)
		path := "/v1/actors/counter/" + id(t) + "-" + strconv.FormatBool(cfg.Token != "")
		for _, h := range [][]string{
			{"Origin", "http://evil.example", "Content-Type", "application/x-www-form-urlencoded"},
			{"Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site", "same-site", "Origin", "http://127.0.0.1:1"},
		} {
			wantError(t, post(t, srv, path+"/add", `{"n":5}`, h...), http.StatusForbidden, "unauthorized")
		}
		assert.JSONEq(t, `{"n":0}`, okJSON(t, post(t, srv, path+"/get", ``)), "a refused call changed the actor")
		assert.JSONEq(t, `{"n":1}`, okJSON(t, post(t, srv, path+"/add", `{"n":1}`, "Origin", srv.URL, "Sec-Fetch-Site", "same-origin")))
	}
}
