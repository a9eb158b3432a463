package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/wactor/wactor/manifest"
)

// tokenEnv names the environment variable that holds the control plane's
// bearer token, for wactor run and for the commands that talk to it.
const tokenEnv = "WACTOR_TOKEN"

// token is a bearer token and where it came from, for messages that must
// not show the token itself.
type token struct {
	value string
	from  string // "--token-file /etc/wactor/token", "$WACTOR_TOKEN", ...
	file  string // the file it was read from; "" for none
}

// readTokenFile reads the token in the file at path; one trailing newline
// (as echo and most editors leave) is not part of it. The token must pass
// manifest.CheckToken.
func readTokenFile(path, from string) (token, error) {
	f, err := os.Open(path)
	if err != nil {
		return token{}, fmt.Errorf("%s: %w", from, err)
	}
	defer f.Close()
	// Read one byte past the longest token and its newline, to tell a
	// token that is too long from one that fits.
	b, err := io.ReadAll(io.LimitReader(f, manifest.MaxTokenLen+3))
	if err != nil {
		return token{}, fmt.Errorf("%s: %w", from, err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if msg := manifest.CheckToken(s); msg != "" {
		return token{}, fmt.Errorf("%s: %s", from, msg)
	}
	return token{value: s, from: from, file: path}, nil
}

// envToken returns the token in $WACTOR_TOKEN, and false when it is not
// set. Set but empty or malformed is an error, not "no token": an
// operator who exported it meant to give one.
func envToken() (token, bool, error) {
	s, ok := os.LookupEnv(tokenEnv)
	if !ok {
		return token{}, false, nil
	}
	if msg := manifest.CheckToken(s); msg != "" {
		return token{}, true, fmt.Errorf("$%s: %s; unset it to run without a token", tokenEnv, msg)
	}
	return token{value: s, from: "$" + tokenEnv}, true, nil
}

// serverToken returns the token wactor run requires on its control plane.
// The first that is set wins: the --token-file flag, then $WACTOR_TOKEN,
// then the manifest's http.token_file or http.token. The zero token means
// none is set.
func serverToken(flagFile string, m *manifest.Manifest) (token, error) {
	if flagFile != "" {
		return readTokenFile(flagFile, "--token-file "+flagFile)
	}
	if t, ok, err := envToken(); ok || err != nil {
		return t, err
	}
	switch {
	case m.HTTP.TokenFile != "":
		return readTokenFile(m.HTTP.TokenFile, "http.token_file "+m.HTTP.TokenFile+" of "+m.File)
	case m.HTTP.Token != "":
		return token{value: m.HTTP.Token, from: "http.token of " + m.File}, nil // checked by the manifest
	}
	return token{}, nil
}

// clientToken returns the token the commands that talk to wactor send:
// the --token-file flag's, else $WACTOR_TOKEN. The zero token means none.
func clientToken(flagFile string) (token, error) {
	if flagFile != "" {
		return readTokenFile(flagFile, "--token-file "+flagFile)
	}
	t, _, err := envToken()
	return t, err
}

// errNoToken explains why wactor run refuses to serve an open control
// plane beyond this machine.
var errNoToken = errors.New("no token is set, so anyone who reaches it could list, replay and delete dead letters " +
	"and read every listing; set one (openssl rand -hex 32 > token; then --token-file token, $" + tokenEnv +
	" or http.token_file in the manifest), listen on 127.0.0.1, or pass --insecure-no-token to serve it open anyway (see docs/security.md)")

// isLoopback reports whether the listen address addr (host:port) reaches
// this machine only: its host is in 127.0.0.0/8, is ::1, or is localhost.
// An empty host (":8080"), 0.0.0.0, :: and any other name or address
// listen beyond it.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
