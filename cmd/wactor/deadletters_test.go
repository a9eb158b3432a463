package main

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDeadLetters(t *testing.T) {
	g := &fakeGateway{}
	srv := httptest.NewServer(g)
	defer srv.Close()
	t.Setenv("WACTOR_ADDR", srv.URL)
	const listing = `{"deadletters":[{"id":"0001","target":"hostile/p","method":"panic","payload":null,
		"error":"trapped: hostile/p.panic trapped","attempts":3,"at":"2030-01-01T00:00:00Z"}]}`
	tests := []struct {
		name         string
		args         []string
		status       int
		answer       string
		code         int
		method, path string
		stdout       string
		stderr       string
	}{
		{name: "list", args: []string{"deadletters", "list"}, status: 200, answer: listing,
			method: "GET", path: "/v1/deadletters", stdout: "0001  hostile/p  panic   3"},
		{name: "empty", args: []string{"deadletters", "list"}, status: 200, answer: `{"deadletters":[]}`,
			method: "GET", path: "/v1/deadletters", stdout: "no dead letters"},
		{name: "replay", args: []string{"deadletters", "replay", "0001"}, status: 202, answer: `{"status":"replayed"}`,
			method: "POST", path: "/v1/deadletters/0001/replay", stdout: "replayed 0001"},
		{name: "delete", args: []string{"deadletters", "delete", "0001"}, status: 200, answer: `{"status":"deleted"}`,
			method: "DELETE", path: "/v1/deadletters/0001", stdout: "deleted 0001"},
		{name: "unknown id", args: []string{"deadletters", "delete", "9"}, status: 400,
			answer: `{"error":{"code":"bad_request","message":"no dead letter \"9\""}}`, code: exitFail,
			method: "DELETE", path: "/v1/deadletters/9", stderr: `wactor: bad_request: no dead letter "9"`},
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
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout:\n%s\nwant it to contain %q", stdout, tt.stdout)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.req.Method != tt.method || g.req.URL.EscapedPath() != tt.path {
				t.Errorf("request %s %s; want %s %s", g.req.Method, g.req.URL.EscapedPath(), tt.method, tt.path)
			}
		})
	}
	for _, bad := range [][]string{{"deadletters"}, {"deadletters", "replay"}, {"deadletters", "show", "1"}} {
		if code, _, _ := runCLI(t, bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}
