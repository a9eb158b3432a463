package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
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
	// public routes are open to every client: calling actors and the
	// health checks.
	public
)

// guard returns handle as it is for a public route, and otherwise a handler
// that runs handle only for a request that carries the gateway's token. A
// refused request gets 401 before its body is read or anything is done.
func (g *Gateway) guard(a access, handle http.HandlerFunc) http.HandlerFunc {
	if a == public || g.token == nil {
		return handle
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if challenge, err := g.authenticate(r.Header); err != nil {
			w.Header().Set("WWW-Authenticate", challenge)
			g.fail(w, r, err)
			return
		}
		handle(w, r)
	}
}

// authenticate checks the request's bearer token against the gateway's.
// On failure it returns the WWW-Authenticate challenge (RFC 6750) and the
// error to answer with.
//
// Both sides are hashed with SHA-256 before a constant-time comparison, so
// the time taken depends neither on how much of the token is right nor on
// its length.
func (g *Gateway) authenticate(h http.Header) (string, error) {
	const challenge = `Bearer realm="wactor"`
	values := h.Values("Authorization")
	if len(values) == 0 {
		return challenge, abi.NewError(abi.CodeUnauthorized,
			"this route needs the node's token: send Authorization: Bearer <token> (the CLI sends $WACTOR_TOKEN or --token-file)")
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if len(values) > 1 || !strings.EqualFold(scheme, "Bearer") {
		return challenge + `, error="invalid_request"`, abi.NewError(abi.CodeUnauthorized,
			`the Authorization header must be one "Bearer <token>"`)
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(sum[:], g.token[:]) != 1 {
		return challenge + `, error="invalid_token"`, abi.NewError(abi.CodeUnauthorized,
			"the bearer token is not this node's token")
	}
	return "", nil
}
