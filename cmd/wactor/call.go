package main

import (
	"bytes"
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
)

// defaultAddr is where call and tell find wactor without --addr or
// $WACTOR_ADDR; it matches the manifest's default http.addr.
const defaultAddr = "http://127.0.0.1:8080"

// maxReply bounds how much of a reply call reads.
const maxReply = 64 << 20

// callFlags are the flags of call and tell.
type callFlags struct {
	addr    string
	key     string
	timeout time.Duration
}

func (f *callFlags) declare(fs *flag.FlagSet) {
	addr := os.Getenv("WACTOR_ADDR")
	if addr == "" {
		addr = defaultAddr
	}
	fs.StringVar(&f.addr, "addr", addr, "`URL` of wactor's HTTP API ($WACTOR_ADDR)")
	fs.StringVar(&f.key, "idempotency-key", "", "make the call safe to retry: a `KEY` the actor already committed is not applied again")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up after this `duration`")
}

// setupCall returns the setup of call (tell false) or tell (tell true).
func setupCall(tell bool) func(fs *flag.FlagSet) runner {
	return func(fs *flag.FlagSet) runner {
		f := new(callFlags)
		f.declare(fs)
		return func(args []string, stdout, stderr io.Writer) int {
			return f.call(tell, args, stdout, stderr)
		}
	}
}

// errorBody is the gateway's error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (f *callFlags) call(tell bool, args []string, stdout, stderr io.Writer) int {
	name := "call"
	if tell {
		name = "tell"
	}
	if len(args) < 2 || len(args) > 3 {
		return usageError(stderr, name, "%s takes TYPE/ID METHOD [JSON], as in: wactor %s counter/a add '{\"n\":7}'", name, name)
	}
	typ, id, ok := strings.Cut(args[0], "/")
	if !ok || typ == "" || id == "" {
		return usageError(stderr, name, "actor %q is not of the form TYPE/ID, as in counter/a", args[0])
	}
	method := args[1]
	var body []byte
	if len(args) == 3 {
		body = []byte(args[2])
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return usageError(stderr, name, "the payload is not valid JSON: %v", err)
		}
	}
	base, err := parseAddr(f.addr)
	if err != nil {
		return usageError(stderr, name, "%v", err)
	}
	// Each part is one path segment: a '/' inside the id is escaped.
	target := strings.TrimSuffix(base.String(), "/") + "/v1/actors/" +
		url.PathEscape(typ) + "/" + url.PathEscape(id) + "/" + url.PathEscape(method)

	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(stderr, "wactor: %v\n", err)
		return exitFail
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if tell {
		req.Header.Set("Prefer", "respond-async")
	}
	if f.key != "" {
		req.Header.Set("Idempotency-Key", f.key)
	}
	reply, ok := roundTrip(req, base, f.timeout, stderr)
	if !ok {
		return exitFail
	}
	if tell {
		fmt.Fprintln(stdout, "accepted")
		return exitOK
	}
	reply = bytes.TrimSpace(reply)
	if len(reply) == 0 {
		reply = []byte("null")
	}
	fmt.Fprintf(stdout, "%s\n", reply)
	return exitOK
}

// roundTrip sends req to the gateway at base and returns the body of a
// successful answer; otherwise it prints what went wrong (the gateway's
// error code and message, or why it could not be reached) and reports false.
func roundTrip(req *http.Request, base *url.URL, timeout time.Duration, stderr io.Writer) ([]byte, bool) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "wactor: %s\n", describeTransportError(err, base, timeout))
		return nil, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		fmt.Fprintf(stderr, "wactor: reading the reply from %s: %s\n", base.Redacted(), describeTransportError(err, base, timeout))
		return nil, false
	}
	if resp.StatusCode >= 300 {
		var e errorBody
		if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
			fmt.Fprintf(stderr, "wactor: %s: %s\n", e.Error.Code, e.Error.Message)
		} else {
			fmt.Fprintf(stderr, "wactor: %s answered %s: %s\n", base.Redacted(), resp.Status, strings.TrimSpace(string(body)))
		}
		return nil, false
	}
	return body, true
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
