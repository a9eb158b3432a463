package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wactor/wactor/abi"
)

// This file is how a browser holds the token: the dashboard's login form
// posts it once, and the gateway answers with a session cookie that
// stands in for "Authorization: Bearer <token>" on the control plane. The
// cookie is HttpOnly and SameSite=Strict and holds no token, only an
// expiry and a MAC of it under a key of this gateway's own; a request that
// changes something with the cookie must also carry a CSRF header derived
// from the session (see checkCSRF). RATIONALE.md says why.

// Names of the cookies and the header of a browser session.
const (
	sessionCookie = "wactor_session"
	// csrfCookie is readable by the dashboard's script, which sends it
	// back in csrfHeader on every request that changes something.
	csrfCookie = "wactor_csrf"
	csrfHeader = "X-Wactor-CSRF"
)

// sessionLifetime is how long a browser session lasts; then the dashboard
// asks for the token again.
const sessionLifetime = 8 * time.Hour

// maxLoginBody bounds the login form: room for the longest token (4096
// bytes, manifest.CheckToken) with every byte URL-encoded as %XX.
const maxLoginBody = 16 << 10

// sessions makes and checks the browser sessions of one gateway.
type sessions struct {
	key [32]byte // random, made by New: sessions end when the process does
	now func() time.Time
}

func newSessions() *sessions {
	s := &sessions{now: time.Now}
	_, _ = rand.Read(s.key[:]) // crypto/rand.Read never fails (Go 1.24+)
	return s
}

// mac is the HMAC-SHA256 of purpose and msg under the gateway's key.
func (s *sessions) mac(purpose string, msg []byte) []byte {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(msg)
	return m.Sum(nil)
}

// issue returns a new session's cookie value and its CSRF value.
func (s *sessions) issue() (session, csrf string) {
	var exp [8]byte
	binary.BigEndian.PutUint64(exp[:], uint64(s.now().Add(sessionLifetime).Unix()))
	session = base64.RawURLEncoding.EncodeToString(append(exp[:], s.mac("session", exp[:])...))
	return session, s.csrfOf(session)
}

// csrfOf is the CSRF value that goes with the session cookie value.
func (s *sessions) csrfOf(session string) string {
	return hex.EncodeToString(s.mac("csrf", []byte(session)))
}

// valid reports whether session is a cookie value this gateway issued
// that has not expired.
func (s *sessions) valid(session string) bool {
	b, err := base64.RawURLEncoding.DecodeString(session)
	if err != nil || len(b) != 8+sha256.Size {
		return false
	}
	if !hmac.Equal(b[8:], s.mac("session", b[:8])) {
		return false
	}
	return s.now().Unix() < int64(binary.BigEndian.Uint64(b[:8]))
}

// sessionOf returns the request's session cookie value, or "".
func sessionOf(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// safeMethod reports whether a request with method m changes nothing.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF refuses a request that changes something on the strength of a
// session cookie unless it carries the session's CSRF value in
// csrfHeader and, when the browser says where it comes from, comes from
// this origin. A page of another site can neither read the value nor set
// the header without a CORS preflight, which the gateway never allows.
func (s *sessions) checkCSRF(r *http.Request, session string) error {
	if safeMethod(r.Method) {
		return nil
	}
	if !sameOrigin(r) {
		return abi.NewError(abi.CodeUnauthorized, "a request from another origin ("+r.Header.Get("Origin")+") may not change anything with the dashboard's session")
	}
	got := r.Header.Get(csrfHeader)
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.csrfOf(session))) != 1 {
		return abi.NewError(abi.CodeUnauthorized, "a request that changes something with the dashboard's session needs the "+csrfHeader+" header the dashboard sends")
	}
	return nil
}

// sameOrigin reports whether the request's Origin, when it has one, names
// the host it was sent to.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// setSession sets the session cookies on w, or clears them when session
// is "".
func setSession(w http.ResponseWriter, r *http.Request, session, csrf string) {
	maxAge := int(sessionLifetime / time.Second)
	if session == "" {
		maxAge = -1
	}
	secure := r.TLS != nil
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: session, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", MaxAge: maxAge,
		Secure: secure, SameSite: http.SameSiteStrictMode})
}
