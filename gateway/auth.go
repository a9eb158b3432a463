package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wactor/wactor/abi"
)

// access says who may use a route.
type access int

const (
	// control routes reveal or change more than an actor's reply (listings,
	// dead letters, deployed types): they need the bearer token when the
	// gateway has one. It is the zero value, so that a route nobody
	// classified is protected.
	control access = iota
	// public routes are open to every client: calling actors, the health
	// checks and the dashboard's login page.
	public
	// page routes are control routes a browser navigates to (the
	// dashboard): refused, they answer with the login page.
	page
)

// guard returns handle as it is for a public route, and otherwise a handler
// that runs handle only for a request that carries the gateway's token. A
// refused request gets 401 before its body is read or anything is done.
func (g *Gateway) guard(a access, handle http.HandlerFunc) http.HandlerFunc {
	if a == public {
		return handle
	}
	if g.token == nil {
		return g.openGuard(handle)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if challenge, err := g.authenticate(r); err != nil {
			w.Header().Set("WWW-Authenticate", challenge)
			if a == page {
				g.loginPage(w, http.StatusUnauthorized, "")
				return
			}
			g.fail(w, r, err)
			return
		}
		handle(w, r)
	}
}

// openGuard guards a control route of a gateway without a token, which
// any client may use, but not a web page of another site that the
// operator's browser happens to show: a request that changes something
// and that the browser marks as cross-origin (Sec-Fetch-Site, else an
// Origin that is not the Host) gets 403, as does, with
// Config.LoopbackHostOnly, a request whose Host names neither an IP
// address nor localhost (a page whose name was made to resolve to
// 127.0.0.1: DNS rebinding). Either is refused before anything is read
// or done.
func (g *Gateway) openGuard(handle http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if g.loopbackHostOnly && !loopbackHost(r.Host) {
			g.fail(w, r, statusError(http.StatusForbidden, abi.CodeUnauthorized,
				"this node has no token and serves its control plane only to a Host that is an IP address or localhost, not "+strconv.Quote(r.Host)))
			return
		}
		if err := g.crossOrigin.Check(r); err != nil {
			g.fail(w, r, statusError(http.StatusForbidden, abi.CodeUnauthorized,
				"a request from another site may not change anything on this node's control plane"))
			return
		}
		handle(w, r)
	}
}

// loopbackHost reports whether the Host header hostport names an IP
// address or localhost: names that no other site's DNS can point here.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	_, err := netip.ParseAddr(host)
	return err == nil
}

// authenticate checks the request's bearer token against the gateway's;
// a request without an Authorization header may instead carry the
// dashboard's session cookie (session.go), and then, when it changes
// something, the session's CSRF header. On failure it returns the
// WWW-Authenticate challenge (RFC 6750) and the error to answer with.
//
// Both sides are hashed with SHA-256 before a constant-time comparison, so
// the time taken depends neither on how much of the token is right nor on
// its length.
func (g *Gateway) authenticate(r *http.Request) (string, error) {
	const challenge = `Bearer realm="wactor"`
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		if session := sessionOf(r); session != "" {
			if !g.sessions.valid(session) {
				return challenge + `, error="invalid_token"`, abi.NewError(abi.CodeUnauthorized,
					"the dashboard's session has expired or is not this node's: log in again at /ui/login")
			}
			if err := g.sessions.checkCSRF(r, session); err != nil {
				return challenge + `, error="invalid_request"`, err
			}
			return "", nil
		}
		return challenge, abi.NewError(abi.CodeUnauthorized,
			"this route needs the node's token: send Authorization: Bearer <token> (the CLI sends $WACTOR_TOKEN or --token-file)")
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if len(values) > 1 || !strings.EqualFold(scheme, "Bearer") {
		return challenge + `, error="invalid_request"`, abi.NewError(abi.CodeUnauthorized,
			`the Authorization header must be one "Bearer <token>"`)
	}
	if !g.tokenMatches(token) {
		return challenge + `, error="invalid_token"`, abi.NewError(abi.CodeUnauthorized,
			"the bearer token is not this node's token")
	}
	return "", nil
}

// tokenMatches reports whether token (less surrounding white space) is the
// gateway's.
func (g *Gateway) tokenMatches(token string) bool {
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(sum[:], g.token[:]) == 1
}
