package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestState(t *testing.T) {
	g := &fakeGateway{}
	srv := httptest.NewServer(g)
	defer srv.Close()
	t.Setenv("WACTOR_ADDR", srv.URL)
	const answer = `{"actor":"counter/a b","version":2,"keys":1,"bytes":1,"state":[{"key":"n","value":14,"size":1}],"next_cursor":null}`
	tests := []struct {
		name   string
		args   []string
		status int
		answer string
		code   int
		query  string
		stdout string
		stderr string
	}{
		{name: "page", args: []string{"state", "counter/a b"}, status: 200, answer: answer, stdout: answer + "\n"},
		{name: "next page", args: []string{"state", "counter/a b", "--cursor", "n", "--limit", "5"}, status: 200, answer: answer, query: "cursor=n&limit=5", stdout: answer + "\n"},
		{name: "one key", args: []string{"state", "counter/a b", "--key", "n&m"}, status: 200, answer: answer, query: "key=n%26m", stdout: answer + "\n"},
		{name: "error", args: []string{"state", "counter/a b"}, status: 404,
			answer: `{"error":{"code":"unknown_type","message":"no actor type \"counter\""}}`, code: exitFail,
			stderr: "wactor: unknown_type: no actor type \"counter\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.mu.Lock()
			g.status, g.answer, g.req = tt.status, tt.answer, nil
			g.mu.Unlock()
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) || (tt.stderr == "" && stderr != "") {
				t.Fatalf("exit %d, stderr %q; want exit %d, stderr containing %q", code, stderr, tt.code, tt.stderr)
			}
			if stdout != tt.stdout {
				t.Errorf("stdout %q; want %q", stdout, tt.stdout)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.req.Method != http.MethodGet || g.req.URL.EscapedPath() != "/v1/actors/counter/a%20b/state" || g.req.URL.RawQuery != tt.query {
				t.Errorf("request %s %s?%s", g.req.Method, g.req.URL.EscapedPath(), g.req.URL.RawQuery)
			}
		})
	}
	for _, bad := range [][]string{{"state"}, {"state", "counter"}, {"state", "a/b", "c/d"}, {"state", "a/b", "--key", "k", "--limit", "2"}} {
		if code, _, stderr := runCLI(t, bad...); code != exitUsage || !strings.Contains(stderr, "wactor help state") {
			t.Errorf("%q: exit %d, stderr %q", bad, code, stderr)
		}
	}
}
