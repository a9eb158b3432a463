package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
)

// deadLettersFlags are the flags of "wactor deadletters".
type deadLettersFlags struct {
	listFlags
	limit  int
	cursor string
	all    bool
}

func setupDeadLetters(fs *flag.FlagSet) runner {
	f := new(deadLettersFlags)
	f.register(fs)
	fs.IntVar(&f.limit, "limit", 0, "list at most `N` dead letters a page (the server's default when 0)")
	fs.StringVar(&f.cursor, "cursor", "", "list the page that starts after `CURSOR`, a next_cursor a listing gave")
	fs.BoolVar(&f.all, "all", false, "list every page, following the cursor, printing each as it comes")
	return f.run
}

// deadLetterListing is the answer of GET /v1/deadletters.
type deadLetterListing struct {
	Deadletters []struct {
		ID       string          `json:"id"`
		Target   string          `json:"target"`
		Method   string          `json:"method"`
		Payload  json.RawMessage `json:"payload"`
		Error    string          `json:"error"`
		Attempts int             `json:"attempts"`
		At       string          `json:"at"`
	} `json:"deadletters"`
	NextCursor *string `json:"next_cursor"`
	Total      int     `json:"total"`
	TotalBytes int64   `json:"total_bytes"`
	Dropped    uint64  `json:"dropped"`
}

func (f *deadLettersFlags) run(args []string, stdout, stderr io.Writer) int {
	const usage = "deadletters takes list, show ID, replay ID or delete ID, as in: wactor deadletters replay 0000018f2c3a9e104c1d7e2a9b03f658"
	var method, path string
	switch {
	case len(args) == 1 && args[0] == "list":
		if f.limit < 0 {
			return usageError(stderr, "deadletters", "--limit %d must be a positive number of dead letters a page", f.limit)
		}
	case len(args) == 2 && args[0] == "show":
		method, path = http.MethodGet, "/v1/deadletters/"+url.PathEscape(args[1])
	case len(args) == 2 && args[0] == "replay":
		method, path = http.MethodPost, "/v1/deadletters/"+url.PathEscape(args[1])+"/replay"
	case len(args) == 2 && args[0] == "delete":
		method, path = http.MethodDelete, "/v1/deadletters/"+url.PathEscape(args[1])
	default:
		return usageError(stderr, "deadletters", usage)
	}
	if args[0] == "list" {
		return f.list(stdout, stderr)
	}
	body, code := f.get(method, path, stderr)
	if code != exitOK {
		return code
	}
	if args[0] == "show" {
		fmt.Fprintf(stdout, "%s\n", strings.TrimSpace(string(body)))
		return exitOK
	}
	fmt.Fprintf(stdout, "%sed %s\n", strings.TrimSuffix(args[0], "e"), args[1])
	return exitOK
}

// get sends one request, with its own timeout, and returns the answer.
// A request that cannot be made (a bad --addr or token) is a usage error.
func (f *deadLettersFlags) get(method, path string, stderr io.Writer) ([]byte, int) {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	req, err := f.request(ctx, method, path, nil)
	if err != nil {
		return nil, usageError(stderr, "deadletters", "%v", err)
	}
	body, ok := f.roundTrip(req, stderr)
	if !ok {
		return nil, exitFail
	}
	return body, exitOK
}

// list prints one page, or with --all every page from --cursor on, each
// as it comes.
func (f *deadLettersFlags) list(stdout, stderr io.Writer) int {
	cursor := f.cursor
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	printed := 0
	for {
		q := url.Values{}
		if f.limit > 0 {
			q.Set("limit", strconv.Itoa(f.limit))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		path := "/v1/deadletters"
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		body, code := f.get(http.MethodGet, path, stderr)
		if code != exitOK {
			return code
		}
		var page deadLetterListing
		if err := json.Unmarshal(body, &page); err != nil {
			fmt.Fprintf(stderr, "wactor: %s answered something that is not a dead letter listing: %v\n", f.base.Redacted(), err)
			return exitFail
		}
		if f.json {
			fmt.Fprintf(stdout, "%s\n", strings.TrimSpace(string(body)))
		} else {
			for _, d := range page.Deadletters {
				if printed == 0 {
					fmt.Fprintln(tw, "ID\tTARGET\tMETHOD\tATTEMPTS\tAT (UTC)\tERROR")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Target, d.Method, d.Attempts, d.At, d.Error)
				printed++
			}
			tw.Flush()
		}
		next := ""
		if page.NextCursor != nil {
			next = *page.NextCursor
		}
		if next != "" && next <= cursor {
			fmt.Fprintf(stderr, "wactor: %s gave a next cursor %q that does not move past %q; stopping\n", f.base.Redacted(), next, cursor)
			return exitFail
		}
		if !f.all || next == "" {
			if !f.json {
				f.summary(stdout, page, printed, next)
			}
			return exitOK
		}
		cursor = next
	}
}

// summary ends a listing with the totals and how to go on.
func (f *deadLettersFlags) summary(w io.Writer, page deadLetterListing, printed int, next string) {
	if printed == 0 {
		fmt.Fprint(w, "no dead letters")
		if f.cursor != "" {
			fmt.Fprint(w, " after this cursor")
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d kept (%d bytes), %d dropped by the cap\n", page.Total, page.TotalBytes, page.Dropped)
	if next != "" {
		fmt.Fprintf(w, "more: wactor deadletters list --cursor %s (or --all)\n", next)
	}
}
