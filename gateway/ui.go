package gateway

import (
	"embed"
	"html"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/wactor/wactor/abi"
)

// The dashboard (docs/dashboard.md): plain HTML, CSS and JavaScript
// modules, embedded in the binary and served under /ui/. Each page is
// ui/layout.html (the menu, shared) around its own ui/main/<name>.html,
// put together once; the scripts fetch the control plane's routes.
// Nothing is generated per request but the login page's error line.
//
//go:embed ui/*.html ui/*.js ui/*.css ui/main/*.html
var uiFiles embed.FS

// uiPageTitles names each page of the dashboard, by its path: its name
// (body[data-page], ui/main/<name>.html) and its title.
var uiPageTitles = map[string][2]string{
	"/ui/":            {"overview", "Overview"},
	"/ui/actor":       {"actor", "Actor"},
	"/ui/reminders":   {"reminders", "Reminders"},
	"/ui/deadletters": {"deadletters", "Dead letters"},
	"/ui/members":     {"members", "Members"},
}

// uiAssets holds every file the dashboard serves behind the token, by
// path: the pages, put together, and the scripts.
var uiAssets = func() map[string][]byte {
	layout := string(mustRead("layout.html"))
	out := map[string][]byte{"/ui/app.js": mustRead("app.js"), "/ui/prom.js": mustRead("prom.js")}
	for p, pt := range uiPageTitles {
		main := strings.TrimSpace(string(mustRead("main/" + pt[0] + ".html")))
		out[p] = []byte(strings.NewReplacer("<!--page-->", pt[0], "<!--title-->", pt[1], "<!--main-->", main).Replace(layout))
	}
	return out
}()

// The public files: the login form and its style sheet.
var (
	loginHTML = mustRead("login.html")
	styleCSS  = mustRead("style.css")
)

// mustRead returns the embedded file ui/name; the names are constants of
// this file, and the tests serve every one.
func mustRead(name string) []byte { return must(uiFiles.ReadFile("ui/" + name)) }

// uiSecurityHeaders go on every answer under /ui: no script, style or
// connection but the node's own, no inline script, never in a frame.
var uiSecurityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options":        "DENY",
	// same-origin, not no-referrer: with no-referrer Chromium sends
	// "Origin: null" on the login form's POST, which sameOrigin refuses.
	"Referrer-Policy": "same-origin",
	"Cache-Control":   "no-store",
}

// loginErrorMark is where the login page shows why a login failed.
const loginErrorMark = "<!--error-->"

// serveUI answers with body, of the type name's extension says (HTML
// without one), and the dashboard's headers.
func serveUI(w http.ResponseWriter, status int, name string, body []byte) {
	h := w.Header()
	for k, v := range uiSecurityHeaders {
		h.Set(k, v)
	}
	switch path.Ext(name) {
	case ".js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		h.Set("Content-Type", "text/css; charset=utf-8")
	default:
		h.Set("Content-Type", "text/html; charset=utf-8")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// loginPage answers with the login form and, when msg is not empty, why
// the last attempt failed.
func (g *Gateway) loginPage(w http.ResponseWriter, status int, msg string) {
	line := ""
	if msg != "" {
		line = `<p class="error" role="alert">` + html.EscapeString(msg) + `</p>`
	}
	serveUI(w, status, "login.html", []byte(strings.Replace(string(loginHTML), loginErrorMark, line, 1)))
}

// uiPage serves GET /ui/ and the pages and scripts under it (page access:
// the token, or a session, is needed).
func (g *Gateway) uiPage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		g.fail(w, r, statusError(http.StatusMethodNotAllowed, abi.CodeBadRequest, "method "+r.Method+" is not allowed on "+r.URL.Path+"; use GET"))
		return
	}
	body, ok := uiAssets[r.URL.Path]
	if !ok {
		g.notFound(w, r)
		return
	}
	serveUI(w, http.StatusOK, r.URL.Path, body)
}

// uiRoot serves GET /ui: the dashboard is at /ui/.
func (g *Gateway) uiRoot(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// uiStyle serves GET /ui/style.css, which the login page needs too.
func (g *Gateway) uiStyle(w http.ResponseWriter, r *http.Request) {
	serveUI(w, http.StatusOK, "style.css", styleCSS)
}

// uiLogin serves GET /ui/login: the form that asks for the token.
func (g *Gateway) uiLogin(w http.ResponseWriter, r *http.Request) {
	if g.token == nil {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	g.loginPage(w, http.StatusOK, "")
}

// uiLoginPost serves POST /ui/login: a form with the token. The right one
// gets the session cookies and a redirect to the overview; anything else
// gets the form again with 401.
func (g *Gateway) uiLoginPost(w http.ResponseWriter, r *http.Request) {
	if g.token == nil {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	if !sameOrigin(r) {
		g.loginPage(w, http.StatusUnauthorized, "A login from another site is refused.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil || !g.tokenMatches(r.PostForm.Get("token")) {
		g.loginPage(w, http.StatusUnauthorized, "That is not this node's token.")
		return
	}
	session, csrf := g.sessions.issue()
	setSession(w, r, session, csrf)
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// uiLogout serves POST /ui/logout: it clears the session cookies (the
// session itself lasts until it expires, but the browser forgets it). A
// form of another site may not log the browser out.
func (g *Gateway) uiLogout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) || g.crossOrigin.Check(r) != nil {
		g.fail(w, r, statusError(http.StatusForbidden, abi.CodeUnauthorized, "a logout from another site is refused"))
		return
	}
	setSession(w, r, "", "")
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}
