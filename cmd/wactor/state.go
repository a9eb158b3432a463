package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// stateFlags are the flags of "wactor state".
type stateFlags struct {
	clientFlags
	key, cursor string
	limit       int
}

func setupState(fs *flag.FlagSet) runner {
	f := new(stateFlags)
	f.declare(fs)
	fs.StringVar(&f.key, "key", "", "print only this `KEY`, its value whole")
	fs.StringVar(&f.cursor, "cursor", "", "start after this `KEY` (the next_cursor of the page before)")
	fs.IntVar(&f.limit, "limit", 0, "at most `N` keys (the server's default 100 when 0; at most 1000)")
	return f.run
}

func (f *stateFlags) run(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		return usageError(stderr, "state", "state takes one TYPE/ID, as in: wactor state counter/a")
	}
	typ, id, ok := strings.Cut(args[0], "/")
	if !ok || typ == "" || id == "" {
		return usageError(stderr, "state", "actor %q is not of the form TYPE/ID, as in counter/a", args[0])
	}
	q := url.Values{}
	switch {
	case f.key != "" && (f.cursor != "" || f.limit != 0):
		return usageError(stderr, "state", "--key prints one value whole: leave out --cursor and --limit")
	case f.key != "":
		q.Set("key", f.key)
	default:
		if f.cursor != "" {
			q.Set("cursor", f.cursor)
		}
		if f.limit != 0 {
			q.Set("limit", strconv.Itoa(f.limit))
		}
	}
	path := "/v1/actors/" + url.PathEscape(typ) + "/" + url.PathEscape(id) + "/state"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	req, err := f.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return usageError(stderr, "state", "%v", err)
	}
	body, ok := f.roundTrip(req, stderr)
	if !ok {
		return exitFail
	}
	fmt.Fprintf(stdout, "%s\n", strings.TrimSpace(string(body)))
	return exitOK
}
