package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wactor/wactor/manifest"
)

// unsetenv unsets key for the test, and restores it after.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	t.Setenv(key, "") // registers the restore
	os.Unsetenv(key)
}

const (
	tokFileValue     = "token-from-the-file-0123456789"
	tokEnvValue      = "token-from-the-env-0123456789"
	tokManifestValue = "token-from-the-manifest-012345"
)

func TestServerTokenPrecedence(t *testing.T) {
	dir := t.TempDir()
	flagFile := filepath.Join(dir, "flag.token")
	writeFile(t, flagFile, []byte(tokFileValue+"\n"))
	mfile := filepath.Join(dir, "manifest.token")
	writeFile(t, mfile, []byte("token-from-the-manifest-file-0\r\n"))
	withFile := &manifest.Manifest{File: "wactor.yaml", HTTP: manifest.HTTP{TokenFile: mfile}}
	withToken := &manifest.Manifest{File: "wactor.yaml", HTTP: manifest.HTTP{Token: tokManifestValue}}
	none := &manifest.Manifest{File: "wactor.yaml"}

	tests := []struct {
		name     string
		flag     string
		env      *string
		m        *manifest.Manifest
		want     string
		wantFrom string
	}{
		{"flag wins over all", flagFile, ptr(tokEnvValue), withToken, tokFileValue, "--token-file " + flagFile},
		{"env wins over the manifest", "", ptr(tokEnvValue), withFile, tokEnvValue, "$WACTOR_TOKEN"},
		{"manifest token_file, CRLF stripped", "", nil, withFile, "token-from-the-manifest-file-0", "http.token_file " + mfile + " of wactor.yaml"},
		{"manifest token", "", nil, withToken, tokManifestValue, "http.token of wactor.yaml"},
		{"none", "", nil, none, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsetenv(t, tokenEnv)
			if tt.env != nil {
				t.Setenv(tokenEnv, *tt.env)
			}
			tok, err := serverToken(tt.flag, tt.m)
			if err != nil || tok.value != tt.want || tok.from != tt.wantFrom {
				t.Fatalf("serverToken = %q from %q, %v; want %q from %q", tok.value, tok.from, err, tt.want, tt.wantFrom)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestServerTokenRefusals(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	writeFile(t, short, []byte("abc\n"))
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, []byte("\n"))
	spaced := filepath.Join(dir, "spaced")
	writeFile(t, spaced, []byte("0123456789abcdef \n"))
	twoLines := filepath.Join(dir, "two-lines")
	writeFile(t, twoLines, []byte("0123456789abcdef\n0123456789abcdef\n"))
	long := filepath.Join(dir, "long")
	writeFile(t, long, []byte(strings.Repeat("x", manifest.MaxTokenLen+10)))
	none := &manifest.Manifest{File: "wactor.yaml"}

	tests := []struct {
		name string
		flag string
		env  *string
		want string
	}{
		{"short file", short, nil, "--token-file " + short + ": the token is 3 bytes, too short"},
		{"empty file", empty, nil, "the token is empty"},
		{"trailing space", spaced, nil, "byte 17 of the token is a space"},
		{"two lines", twoLines, nil, "byte 17 of the token is a space, a control character"},
		{"too long", long, nil, "the most is 4096"},
		{"missing file", filepath.Join(dir, "nope"), nil, "no such file"},
		{"empty env", "", ptr(""), "$WACTOR_TOKEN: the token is empty"},
		{"short env", "", ptr("abc"), "$WACTOR_TOKEN: the token is 3 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsetenv(t, tokenEnv)
			if tt.env != nil {
				t.Setenv(tokenEnv, *tt.env)
			}
			tok, err := serverToken(tt.flag, none)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serverToken = %q, %v; want an error containing %q", tok.value, err, tt.want)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080":       true,
		"127.1.2.3:0":          true,
		"[::1]:8080":           true,
		"localhost:8080":       true,
		"LOCALHOST:8080":       true,
		"[::ffff:127.0.0.1]:1": true,
		":8080":                false,
		"0.0.0.0:8080":         false,
		"[::]:8080":            false,
		"10.0.0.1:8080":        false,
		"example.com:8080":     false,
		"localhost.:8080":      false,
		"128.0.0.1:8080":       false,
		"nonsense":             false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v; want %v", addr, got, want)
		}
	}
}

// TestClientSendsToken: every command that talks to wactor sends the
// token of --token-file, else $WACTOR_TOKEN, and a 401 exits 1 with the
// gateway's message and a hint.
func TestClientSendsToken(t *testing.T) {
	g := &fakeGateway{status: 200, answer: `{"deadletters":[],"reminders":[]}`}
	srv := httptest.NewServer(g)
	defer srv.Close()
	t.Setenv("WACTOR_ADDR", srv.URL)
	file := filepath.Join(t.TempDir(), "token")
	writeFile(t, file, []byte(tokFileValue+"\n"))

	commands := [][]string{
		{"call", "counter/a", "get"},
		{"tell", "counter/a", "get"},
		{"reminders", "list"},
		{"reminders", "list", "alarm/a"},
		{"deadletters", "list"},
		{"deadletters", "replay", "1"},
		{"deadletters", "delete", "1"},
	}
	for _, args := range commands {
		for _, c := range []struct {
			name  string
			env   *string
			flags []string
			want  string
		}{
			{"no token", nil, nil, ""},
			{"env", ptr(tokEnvValue), nil, "Bearer " + tokEnvValue},
			{"file over env", ptr(tokEnvValue), []string{"--token-file", file}, "Bearer " + tokFileValue},
		} {
			t.Run(strings.Join(args, " ")+"/"+c.name, func(t *testing.T) {
				unsetenv(t, tokenEnv)
				if c.env != nil {
					t.Setenv(tokenEnv, *c.env)
				}
				g.mu.Lock()
				g.status, g.req = 200, nil
				g.mu.Unlock()
				code, _, stderr := runCLI(t, append(args, c.flags...)...)
				if code != exitOK {
					t.Fatalf("exit %d, stderr %q", code, stderr)
				}
				g.mu.Lock()
				defer g.mu.Unlock()
				if got := g.req.Header.Get("Authorization"); got != c.want {
					t.Errorf("Authorization %q; want %q", got, c.want)
				}
			})
		}
	}

	// A 401 prints the gateway's message and a hint, and exits 1.
	g.mu.Lock()
	g.status, g.answer = http.StatusUnauthorized, `{"error":{"code":"unauthorized","message":"the bearer token is not this node's token"}}`
	g.mu.Unlock()
	t.Setenv(tokenEnv, tokEnvValue)
	code, stdout, stderr := runCLI(t, "deadletters", "delete", "1")
	if code != exitFail || stdout != "" || !strings.Contains(stderr, "wactor: unauthorized: the bearer token is not this node's token\n") ||
		!strings.Contains(stderr, "refused the token from $WACTOR_TOKEN") || strings.Contains(stderr, tokEnvValue) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 1, the message and a hint naming $WACTOR_TOKEN", code, stdout, stderr)
	}
	unsetenv(t, tokenEnv)
	code, _, stderr = runCLI(t, "deadletters", "list")
	if code != exitFail || !strings.Contains(stderr, "set $WACTOR_TOKEN or pass --token-file FILE") {
		t.Fatalf("exit %d, stderr %q; want 1 and a hint to set $WACTOR_TOKEN", code, stderr)
	}
	// A token that cannot be right is a mistake on the command line.
	t.Setenv(tokenEnv, "")
	if code, _, stderr = runCLI(t, "deadletters", "list"); code != exitUsage || !strings.Contains(stderr, "$WACTOR_TOKEN: the token is empty") {
		t.Fatalf("exit %d, stderr %q; want 2 and the token is empty", code, stderr)
	}
}
