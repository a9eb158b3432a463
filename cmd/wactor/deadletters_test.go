package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/manifest"
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
		query        string
		stdout       string
		stderr       string
	}{
		{name: "list", args: []string{"deadletters", "list"}, status: 200, answer: listing,
			method: "GET", path: "/v1/deadletters", stdout: "0001  hostile/p  panic   3"},
		{name: "empty", args: []string{"deadletters", "list"}, status: 200, answer: `{"deadletters":[]}`,
			method: "GET", path: "/v1/deadletters", stdout: "no dead letters"},
		{name: "replay", args: []string{"deadletters", "replay", "0001"}, status: 202, answer: `{"status":"replayed"}`,
			method: "POST", path: "/v1/deadletters/0001/replay", stdout: "replayed 0001"},
		{name: "page", args: []string{"deadletters", "list", "--limit", "1", "--cursor", "0000"}, status: 200,
			answer: strings.Replace(listing, `]}`, `],"next_cursor":"0001","total":7,"total_bytes":900,"dropped":2}`, 1),
			method: "GET", path: "/v1/deadletters", query: "cursor=0000&limit=1",
			stdout: "7 kept (900 bytes), 2 dropped by the cap\nmore: wactor deadletters list --cursor 0001"},
		{name: "show", args: []string{"deadletters", "show", "0001"}, status: 200, answer: `{"id":"0001","payload":{"n":1}}`,
			method: "GET", path: "/v1/deadletters/0001", stdout: `{"id":"0001","payload":{"n":1}}`},
		{name: "bad cursor", args: []string{"deadletters", "list", "--cursor", "x"}, status: 400,
			answer: `{"error":{"code":"bad_request","message":"cursor \"x\" is not one a listing gave"}}`, code: exitFail,
			method: "GET", path: "/v1/deadletters", query: "cursor=x", stderr: `wactor: bad_request: cursor "x" is not one a listing gave`},
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
			if g.req.Method != tt.method || g.req.URL.EscapedPath() != tt.path || g.req.URL.RawQuery != tt.query {
				t.Errorf("request %s %s?%s; want %s %s?%s", g.req.Method, g.req.URL.EscapedPath(), g.req.URL.RawQuery, tt.method, tt.path, tt.query)
			}
		})
	}
	for _, bad := range [][]string{{"deadletters"}, {"deadletters", "replay"}, {"deadletters", "peek", "1"},
		{"deadletters", "list", "--limit", "-1"}, {"deadletters", "list", "--limit", "x"}} {
		if code, _, _ := runCLI(t, bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

// --all follows the cursor page by page, printing each as it comes, and
// stops when a server's cursor does not move on.
func TestDeadLettersAll(t *testing.T) {
	pages := map[string]string{
		"":     `{"deadletters":[{"id":"0001","target":"a/1","method":"m","attempts":1}],"next_cursor":"0001","total":3}`,
		"0001": `{"deadletters":[{"id":"0002","target":"a/2","method":"m","attempts":1}],"next_cursor":"0002","total":3}`,
		"0002": `{"deadletters":[{"id":"0003","target":"a/3","method":"m","attempts":1}],"next_cursor":null,"total":3,"dropped":4}`,
		"0009": `{"deadletters":[],"next_cursor":"0009"}`,
	}
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, pages[r.URL.Query().Get("cursor")])
	}))
	defer srv.Close()
	t.Setenv("WACTOR_ADDR", srv.URL)

	code, stdout, stderr := runCLI(t, "deadletters", "list", "--all", "--limit", "1")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"0001  a/1", "0002  a/2", "0003  a/3", "3 kept (0 bytes), 4 dropped by the cap"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout:\n%s\nwant it to contain %q", stdout, want)
		}
	}
	if strings.Count(stdout, "ID ") != 1 || strings.Contains(stdout, "more:") {
		t.Errorf("stdout:\n%s\nwant one header and no hint of more", stdout)
	}
	if want := []string{"limit=1", "cursor=0001&limit=1", "cursor=0002&limit=1"}; !slices.Equal(asked, want) {
		t.Errorf("asked %q, want %q", asked, want)
	}
	code, _, stderr = runCLI(t, "deadletters", "list", "--all", "--cursor", "0009")
	if code != exitFail || !strings.Contains(stderr, `does not move past "0009"`) {
		t.Errorf("a cursor that does not move on: exit %d, stderr %q", code, stderr)
	}
}

// The manifest's defaults for the dead letter cap are the host's: a
// manifest without dead_letters and a host.Config without the fields get
// the same cap.
func TestDeadLetterDefaultsAgree(t *testing.T) {
	if manifest.DefaultDeadLetterCount != host.DefaultMaxDeadLetters {
		t.Errorf("manifest.DefaultDeadLetterCount = %d, host.DefaultMaxDeadLetters = %d", manifest.DefaultDeadLetterCount, host.DefaultMaxDeadLetters)
	}
	if int64(manifest.DefaultDeadLetterBytes) != host.DefaultMaxDeadLetterBytes {
		t.Errorf("manifest.DefaultDeadLetterBytes = %d, host.DefaultMaxDeadLetterBytes = %d", manifest.DefaultDeadLetterBytes, host.DefaultMaxDeadLetterBytes)
	}
}
