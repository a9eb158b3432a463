package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// callFlags are the flags of call and tell.
type callFlags struct {
	clientFlags
	key string
}

func (f *callFlags) declare(fs *flag.FlagSet) {
	f.clientFlags.declare(fs)
	fs.StringVar(&f.key, "idempotency-key", "", "make the call safe to retry: a `KEY` the actor already committed is not applied again")
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
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	// Each part is one path segment: a '/' inside the id is escaped.
	path := "/v1/actors/" + url.PathEscape(typ) + "/" + url.PathEscape(id) + "/" + url.PathEscape(method)
	req, err := f.request(ctx, http.MethodPost, path, bytes.NewReader(body))
	if err != nil {
		return usageError(stderr, name, "%v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tell {
		req.Header.Set("Prefer", "respond-async")
	}
	if f.key != "" {
		req.Header.Set("Idempotency-Key", f.key)
	}
	reply, ok := f.roundTrip(req, stderr)
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
