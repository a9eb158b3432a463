package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCallPathAgreesWithTheMux checks the gateway's shortcut for calls
// (callPath) against the mux it skips: whenever it takes a request, the
// mux would have routed it to the call route with the same wildcards, and
// the requests it leaves include every one the mux would clean, redirect
// or unescape.
func TestCallPathAgreesWithTheMux(t *testing.T) {
	g := New(nil, Config{})
	var got [3]string
	ref := http.NewServeMux()
	ref.HandleFunc(callPattern, func(w http.ResponseWriter, r *http.Request) {
		got = [3]string{r.PathValue("type"), r.PathValue("id"), r.PathValue("method")}
	})
	cases := []struct {
		method, target string
		fast           bool
	}{
		{"POST", "/v1/actors/counter/1/add", true},
		{"POST", "/v1/actors/counter/a.b-c_d/add", true},
		{"POST", "/v1/actors/counter/1/reminders", true}, // the GET route is GET only
		{"POST", "/v1/actors/counter/1/state", true},
		{"POST", "/v1/actors/counter/1/add?x=1", true},
		{"GET", "/v1/actors/counter/1/add", false},
		{"PUT", "/v1/actors/counter/1/add", false},
		{"POST", "/v1/actors/counter/1", false},
		{"POST", "/v1/actors/counter/1/add/", false},
		{"POST", "/v1/actors/counter/1/add/more", false},
		{"POST", "/v1/actors//1/add", false},
		{"POST", "/v1/actors/counter//add", false},
		{"POST", "/v1/actors/counter/./add", false},
		{"POST", "/v1/actors/counter/../add", false},
		{"POST", "/v1/actors/../1/add", false},
		{"POST", "/v1/actors/counter/1/..", false},
		{"POST", "/v1/actors/counter/a%2Fb/add", false},
		{"POST", "/v1/actors/counter/%61/add", false}, // escaped: the mux unescapes it
		{"POST", "/v1/topics/t", false},
		{"POST", "/v1/actorsx/counter/1/add", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, nil)
		typ, id, method, ok := callPath(r)
		if ok != c.fast {
			t.Errorf("%s %s: callPath took it: %v, want %v", c.method, c.target, ok, c.fast)
			continue
		}
		if !ok {
			continue
		}
		if _, pattern := g.mux.Handler(r); pattern != callPattern {
			t.Errorf("%s %s: the mux routes it to %q, not the call route", c.method, c.target, pattern)
		}
		got = [3]string{}
		ref.ServeHTTP(httptest.NewRecorder(), r)
		if want := [3]string{typ, id, method}; got != want {
			t.Errorf("%s %s: callPath read %q, the mux %q", c.method, c.target, want, got)
		}
	}
}
