package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRemindersList(t *testing.T) {
	g := &fakeGateway{}
	srv := httptest.NewServer(g)
	defer srv.Close()
	t.Setenv("WACTOR_ADDR", srv.URL)
	const listing = `{"reminders":[
		{"name":"alarm","method":"ring","payload":null,"due":"2030-01-01T01:00:00Z","due_unix_ms":1893459600000,"kind":"once","missed":"catch_up"},
		{"name":"sync","method":"sync","payload":null,"due":"2030-01-01T00:05:00Z","due_unix_ms":1893456300000,"kind":"every","every_ms":300000,"missed":"skip"},
		{"name":"report","method":"report","payload":{"to":"ops"},"due":"2030-01-02T09:00:00Z","due_unix_ms":1893574800000,"kind":"cron","cron":"0 9 * * *","missed":"catch_up"}]}`

	tests := []struct {
		name   string
		args   []string
		status int
		answer string
		code   int
		stdout []string // substrings
		stderr string
	}{
		{name: "table", args: []string{"reminders", "list", "alarm/a b"}, status: 200, answer: listing,
			stdout: []string{"NAME", "alarm   once", "2030-01-01T01:00:00Z", "every 5m0s", "cron 0 9 * * *", "skip"}},
		{name: "json", args: []string{"reminders", "list", "alarm/a b", "--json"}, status: 200, answer: listing,
			stdout: []string{`"due_unix_ms":1893459600000`}},
		{name: "none", args: []string{"reminders", "list", "alarm/a b"}, status: 200, answer: `{"reminders":[]}`,
			stdout: []string{"alarm/a b has no reminders"}},
		{name: "all", args: []string{"reminders", "list"}, status: 200, answer: listing,
			stdout: []string{"ACTOR", "cron 0 9 * * *"}},
		{name: "none at all", args: []string{"reminders", "list"}, status: 200, answer: `{"reminders":[]}`,
			stdout: []string{"no actor has reminders"}},
		{name: "error", args: []string{"reminders", "list", "alarm/a b"}, status: 404,
			answer: `{"error":{"code":"unknown_type","message":"no actor type \"alarm\""}}`, code: exitFail,
			stderr: "wactor: unknown_type: no actor type \"alarm\""},
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
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout:\n%s\nwant it to contain %q", stdout, want)
				}
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			want := "/v1/actors/alarm/a%20b/reminders"
			if len(tt.args) == 2 {
				want = "/v1/reminders"
			}
			if g.req.Method != http.MethodGet || g.req.URL.EscapedPath() != want {
				t.Errorf("request %s %s", g.req.Method, g.req.URL.EscapedPath())
			}
		})
	}
	for _, bad := range [][]string{{"reminders"}, {"reminders", "alarm/a"}, {"reminders", "show", "alarm/a"}, {"reminders", "list", "alarm"}, {"reminders", "list", "a/b", "c/d"}} {
		if code, _, stderr := runCLI(t, bad...); code != exitUsage || !strings.Contains(stderr, "wactor help reminders") {
			t.Errorf("%q: exit %d, stderr %q", bad, code, stderr)
		}
	}
}
