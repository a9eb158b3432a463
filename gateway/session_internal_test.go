package gateway

import (
	"strings"
	"testing"
	"time"
)

// TestSessionExpires: a session is good until its lifetime is up, and a
// session or CSRF value of one gateway means nothing to another.
func TestSessionExpires(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	s := newSessions()
	s.now = func() time.Time { return now }
	session, csrf := s.issue()
	if !s.valid(session) {
		t.Fatal("a new session is not valid")
	}
	if csrf != s.csrfOf(session) || strings.Contains(csrf, session) {
		t.Fatalf("csrf %q does not derive from the session", csrf)
	}
	now = start.Add(sessionLifetime - time.Second)
	if !s.valid(session) {
		t.Error("the session ended before its lifetime")
	}
	now = start.Add(sessionLifetime)
	if s.valid(session) {
		t.Error("the session outlived its lifetime")
	}
	other := newSessions()
	other.now = s.now
	now = start
	if other.valid(session) || other.csrfOf(session) == csrf {
		t.Error("another gateway takes this gateway's session")
	}
	now = start.Add(time.Minute)
	if second, csrf2 := s.issue(); second == session || csrf2 == csrf {
		t.Error("a later session has the same values")
	}
}

// TestUIPages: every page is its layout around its own part, with no
// placeholder left.
func TestUIPages(t *testing.T) {
	for path, pt := range uiPageTitles {
		page := string(uiAssets[path])
		for _, want := range []string{`data-page="` + pt[0] + `"`, "<title>wactor: " + pt[1] + "</title>", "<h1>" + pt[1] + "</h1>", `src="/ui/app.js"`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
		if strings.Contains(page, "<!--") {
			t.Errorf("%s keeps a placeholder", path)
		}
	}
}
