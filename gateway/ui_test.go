package gateway_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/gateway"
)

// uiPaths are the dashboard's pages and scripts, with their content type.
var uiPaths = map[string]string{
	"/ui/":            "text/html; charset=utf-8",
	"/ui/actor":       "text/html; charset=utf-8",
	"/ui/reminders":   "text/html; charset=utf-8",
	"/ui/deadletters": "text/html; charset=utf-8",
	"/ui/members":     "text/html; charset=utf-8",
	"/ui/app.js":      "text/javascript; charset=utf-8",
	"/ui/prom.js":     "text/javascript; charset=utf-8",
}

func assertSecurityHeaders(t *testing.T, r response, what string) {
	t.Helper()
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"} {
		assert.Contains(t, csp, want, "%s: Content-Security-Policy", what)
	}
	assert.NotContains(t, csp, "unsafe-inline", what)
	assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), what)
	assert.Equal(t, "DENY", r.header.Get("X-Frame-Options"), what)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"), what)
}

// login posts the token and returns the session and CSRF cookies.
func login(t *testing.T, srv interface{ URL() string }, r response) (session, csrf *http.Cookie) {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		switch c.Name {
		case "wactor_session":
			session = c
		case "wactor_csrf":
			csrf = c
		}
	}
	return session, csrf
}

type urlOf string

func (u urlOf) URL() string { return string(u) }

// TestDashboardAuth: on a node with a token, every page and script of the
// dashboard is refused without it (401 and the login form, no data); the
// login form exchanges the token for a session cookie that opens the
// pages and the control plane's reads, and whose writes need the CSRF
// header from the same origin.
func TestDashboardAuth(t *testing.T) {
	srv, _ := serve(t, gateway.Config{Token: testToken})
	for path, ct := range uiPaths {
		r := do(t, srv, http.MethodGet, path, nil)
		assert.Equal(t, http.StatusUnauthorized, r.status, "%s without the token", path)
		assert.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"), path)
		assert.Contains(t, string(r.body), `<form method="post" action="/ui/login">`, path)
		assert.NotContains(t, string(r.body), "app.js", "%s: the login page loads no script", path)
		assertSecurityHeaders(t, r, path+" refused")

		r = do(t, srv, http.MethodGet, path, nil, "Authorization", "Bearer "+testToken)
		assert.Equal(t, http.StatusOK, r.status, path)
		assert.Equal(t, ct, r.header.Get("Content-Type"), path)
		assertSecurityHeaders(t, r, path)
	}
	r := do(t, srv, http.MethodGet, "/ui/style.css", nil)
	assert.Equal(t, http.StatusOK, r.status, "the style sheet is public: the login page needs it")
	assert.Equal(t, "text/css; charset=utf-8", r.header.Get("Content-Type"))
	wantError(t, do(t, srv, http.MethodGet, "/ui/nosuch", nil, "Authorization", "Bearer "+testToken), http.StatusNotFound, "bad_request")
	r = do(t, srv, http.MethodPost, "/ui/", nil, "Authorization", "Bearer "+testToken)
	wantError(t, r, http.StatusMethodNotAllowed, "bad_request")
	assert.Equal(t, "GET, HEAD", r.header.Get("Allow"))
	r = do(t, srv, http.MethodGet, "/ui", nil)
	assert.Equal(t, http.StatusSeeOther, r.status)
	assert.Equal(t, "/ui/", r.header.Get("Location"))

	form := "application/x-www-form-urlencoded"
	for _, bad := range []string{"token=nope", "token=" + url.QueryEscape(testToken[:16]), "", "tok=" + testToken} {
		r := do(t, srv, http.MethodPost, "/ui/login", []byte(bad), "Content-Type", form)
		assert.Equal(t, http.StatusUnauthorized, r.status, bad)
		assert.Contains(t, string(r.body), `role="alert">That is not this node&#39;s token.</p>`, bad)
		assert.Empty(t, r.header.Values("Set-Cookie"), bad)
	}
	r = do(t, srv, http.MethodPost, "/ui/login", []byte("token="+testToken), "Content-Type", form, "Origin", "http://evil.example")
	assert.Equal(t, http.StatusUnauthorized, r.status, "a login from another origin")
	assert.Empty(t, r.header.Values("Set-Cookie"))

	r = do(t, srv, http.MethodPost, "/ui/login", []byte("token="+url.QueryEscape(testToken)), "Content-Type", form, "Origin", srv.URL)
	require.Equal(t, http.StatusSeeOther, r.status, "body: %s", r.body)
	assert.Equal(t, "/ui/", r.header.Get("Location"))
	session, csrf := login(t, urlOf(srv.URL), r)
	require.NotNil(t, session)
	require.NotNil(t, csrf)
	assert.True(t, session.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, session.SameSite)
	assert.Equal(t, http.SameSiteStrictMode, csrf.SameSite)
	assert.False(t, csrf.HttpOnly, "the dashboard's script reads the CSRF value")
	assert.Equal(t, "/", session.Path)
	assert.Positive(t, session.MaxAge)
	assert.NotContains(t, session.Value, testToken)
	assert.NotContains(t, csrf.Value, testToken)

	cookie := "wactor_session=" + session.Value
	for path := range uiPaths {
		assert.Equal(t, http.StatusOK, do(t, srv, http.MethodGet, path, nil, "Cookie", cookie).status, path)
	}
	okJSON(t, do(t, srv, http.MethodGet, "/v1/types", nil, "Cookie", cookie))
	okJSON(t, do(t, srv, http.MethodGet, "/v1/deadletters", nil, "Cookie", cookie))

	// A write with the session needs the CSRF header, from this origin.
	replay := "/v1/deadletters/nosuch/replay"
	wantError(t, do(t, srv, http.MethodPost, replay, nil, "Cookie", cookie), http.StatusUnauthorized, "unauthorized")
	wantError(t, do(t, srv, http.MethodPost, replay, nil, "Cookie", cookie, "X-Wactor-CSRF", strings.Repeat("0", len(csrf.Value))), http.StatusUnauthorized, "unauthorized")
	wantError(t, do(t, srv, http.MethodDelete, "/v1/deadletters/nosuch", nil, "Cookie", cookie, "X-Wactor-CSRF", csrf.Value, "Origin", "http://evil.example"), http.StatusUnauthorized, "unauthorized")
	// Past the guard: the id is unknown.
	wantError(t, do(t, srv, http.MethodPost, replay, nil, "Cookie", cookie, "X-Wactor-CSRF", csrf.Value, "Origin", srv.URL), http.StatusBadRequest, "bad_request")
	wantError(t, do(t, srv, http.MethodDelete, "/v1/deadletters/nosuch", nil, "Cookie", cookie, "X-Wactor-CSRF", csrf.Value), http.StatusBadRequest, "bad_request")

	// A forged or altered session is refused.
	for _, forged := range []string{"x", session.Value[:len(session.Value)-2] + "AA", strings.Repeat("A", len(session.Value))} {
		wantError(t, do(t, srv, http.MethodGet, "/v1/types", nil, "Cookie", "wactor_session="+forged), http.StatusUnauthorized, "unauthorized")
		assert.Equal(t, http.StatusUnauthorized, do(t, srv, http.MethodGet, "/ui/", nil, "Cookie", "wactor_session="+forged).status)
	}
	// Another gateway (or this node after a restart) does not take it.
	other, _ := serve(t, gateway.Config{Token: testToken})
	wantError(t, do(t, other, http.MethodGet, "/v1/types", nil, "Cookie", cookie), http.StatusUnauthorized, "unauthorized")
	// A bearer token, when sent, is what counts.
	wantError(t, do(t, srv, http.MethodGet, "/v1/types", nil, "Cookie", cookie, "Authorization", "Bearer nope"), http.StatusUnauthorized, "unauthorized")

	// Another site's form may not log the browser out.
	for _, h := range [][]string{{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "cross-site"}} {
		r = do(t, srv, http.MethodPost, "/ui/logout", nil, append([]string{"Cookie", cookie}, h...)...)
		wantError(t, r, http.StatusForbidden, "unauthorized")
		assert.Empty(t, r.header.Values("Set-Cookie"), h)
	}
	r = do(t, srv, http.MethodPost, "/ui/logout", nil, "Cookie", cookie, "Origin", srv.URL, "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusSeeOther, r.status)
	session, csrf = login(t, urlOf(srv.URL), r)
	require.NotNil(t, session)
	assert.Negative(t, session.MaxAge, "logging out clears the cookie")
	assert.Empty(t, session.Value)
}

// TestDashboardOpen: on a node without a token the dashboard is open, as
// the control plane is, and the login page sends the browser to it.
func TestDashboardOpen(t *testing.T) {
	srv, _ := serve(t, gateway.Config{})
	for path := range uiPaths {
		assert.Equal(t, http.StatusOK, do(t, srv, http.MethodGet, path, nil).status, path)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		r := do(t, srv, m, "/ui/login", nil)
		assert.Equal(t, http.StatusSeeOther, r.status, m)
		assert.Equal(t, "/ui/", r.header.Get("Location"), m)
	}
}

// TestDashboardLongToken: the longest token a node takes, every byte of
// which the form encodes as %XX, still logs in.
func TestDashboardLongToken(t *testing.T) {
	long := strings.Repeat("%&+", 4096/3) + "%"
	require.Len(t, long, 4096)
	srv, _ := serve(t, gateway.Config{Token: long})
	r := do(t, srv, http.MethodPost, "/ui/login", []byte("token="+url.QueryEscape(long)), "Content-Type", "application/x-www-form-urlencoded")
	assert.Equal(t, http.StatusSeeOther, r.status, "body: %s", r.body)
}
