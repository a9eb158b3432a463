package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/wactor/wactor/abi"
)

// defaultAddr is where the commands find wactor without --addr or
// $WACTOR_ADDR; it matches the manifest's default http.addr.
const defaultAddr = "http://127.0.0.1:8080"

// maxReply bounds how much of a reply a command reads.
const maxReply = 64 << 20

// clientFlags are the flags of every command that talks to a running
// wactor: call, tell, reminders, deadletters.
type clientFlags struct {
	addr      string
	tokenFile string
	timeout   time.Duration

	// Set by request, for roundTrip's messages.
	base *url.URL
	tok  token
}

func (f *clientFlags) declare(fs *flag.FlagSet) {
	addr := os.Getenv("WACTOR_ADDR")
	if addr == "" {
		addr = defaultAddr
	}
	fs.StringVar(&f.addr, "addr", addr, "`URL` of wactor's HTTP API ($WACTOR_ADDR)")
	fs.StringVar(&f.tokenFile, "token-file", "", "send the bearer token in `FILE` (else $"+tokenEnv+", if set)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up after this `duration`")
}

// request returns a request for path (escaped) on the gateway at --addr,
// carrying the token when one is set. Its errors are the command line's.
func (f *clientFlags) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	var err error
	if f.base, err = parseAddr(f.addr); err != nil {
		return nil, err
	}
	if f.tok, err = clientToken(f.tokenFile); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(f.base.String(), "/")+path, body)
	if err != nil {
		return nil, err
	}
	if f.tok.value != "" {
		req.Header.Set("Authorization", "Bearer "+f.tok.value)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// errorBody is the gateway's error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// roundTrip sends req and returns the body of a successful answer;
// otherwise it prints what went wrong (the gateway's error code and
// message, or why it could not be reached) and reports false.
func (f *clientFlags) roundTrip(req *http.Request, stderr io.Writer) ([]byte, bool) {
	base := f.base
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "wactor: %s\n", describeTransportError(err, base, f.timeout))
		return nil, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		fmt.Fprintf(stderr, "wactor: reading the reply from %s: %s\n", base.Redacted(), describeTransportError(err, base, f.timeout))
		return nil, false
	}
	if resp.StatusCode < 300 {
		return body, true
	}
	var e errorBody
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		fmt.Fprintf(stderr, "wactor: %s answered %s: %s\n", base.Redacted(), resp.Status, strings.TrimSpace(string(body)))
		return nil, false
	}
	fmt.Fprintf(stderr, "wactor: %s: %s\n", e.Error.Code, e.Error.Message)
	if resp.StatusCode == http.StatusUnauthorized && e.Error.Code == abi.CodeUnauthorized {
		if f.tok.value == "" {
			fmt.Fprintf(stderr, "wactor: %s needs the token wactor run was given: set $%s or pass --token-file FILE\n", base.Redacted(), tokenEnv)
		} else {
			fmt.Fprintf(stderr, "wactor: %s refused the token from %s\n", base.Redacted(), f.tok.from)
		}
	}
	return nil, false
}

// parseAddr accepts a URL or a bare host:port.
func parseAddr(addr string) (*url.URL, error) {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("address %q is not an http URL such as %s", addr, defaultAddr)
	}
	return u, nil
}

// describeTransportError explains a failure to talk to wactor at all.
func describeTransportError(err error, base *url.URL, timeout time.Duration) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("cannot connect to wactor at %s: connection refused; is it running? Start it with \"wactor run -f wactor.yaml\", or point --addr or $WACTOR_ADDR at it",
			base.Redacted())
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timeout: no answer from %s within %s (raise --timeout)", base.Redacted(), timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Sprintf("cannot talk to wactor at %s: %v", base.Redacted(), err)
}
