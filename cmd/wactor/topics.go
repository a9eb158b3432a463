package main

import (
	"bufio"
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

// setupPublish is wactor publish TOPIC [JSON].
func setupPublish(fs *flag.FlagSet) runner {
	f := new(callFlags)
	f.declare(fs)
	return func(args []string, stdout, stderr io.Writer) int {
		if len(args) < 1 || len(args) > 2 {
			return usageError(stderr, "publish", "publish takes TOPIC [JSON], as in: wactor publish rooms.42 '{\"text\":\"hi\"}'")
		}
		var body []byte
		if len(args) == 2 {
			body = []byte(args[1])
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				return usageError(stderr, "publish", "the payload is not valid JSON: %v", err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
		defer cancel()
		req, err := f.request(ctx, http.MethodPost, "/v1/topics/"+url.PathEscape(args[0]), bytes.NewReader(body))
		if err != nil {
			return usageError(stderr, "publish", "%v", err)
		}
		req.Header.Set("Content-Type", "application/json")
		if f.key != "" {
			req.Header.Set("Idempotency-Key", f.key)
		}
		if _, ok := f.roundTrip(req, stderr); !ok {
			return exitFail
		}
		fmt.Fprintln(stdout, "accepted")
		return exitOK
	}
}

// subscribeFlags are the flags of wactor subscribe.
type subscribeFlags struct {
	clientFlags
	count int
}

// setupSubscribe is wactor subscribe TOPIC: it prints the topic's
// messages as they are published, one JSON object a line.
func setupSubscribe(fs *flag.FlagSet) runner {
	f := new(subscribeFlags)
	f.declare(fs)
	fs.IntVar(&f.count, "count", 0, "exit after `N` messages (0: follow until interrupted or --timeout)")
	return func(args []string, stdout, stderr io.Writer) int {
		if len(args) != 1 {
			return usageError(stderr, "subscribe", "subscribe takes TOPIC, as in: wactor subscribe rooms.42")
		}
		ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
		defer cancel()
		req, err := f.request(ctx, http.MethodGet, "/v1/topics/"+url.PathEscape(args[0])+"/events", nil)
		if err != nil {
			return usageError(stderr, "subscribe", "%v", err)
		}
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Fprintf(stderr, "wactor: %s\n", describeTransportError(err, f.base, f.timeout))
			return exitFail
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxReply))
			var e errorBody
			if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
				fmt.Fprintf(stderr, "wactor: %s: %s\n", e.Error.Code, e.Error.Message)
			} else {
				fmt.Fprintf(stderr, "wactor: %s answered %s\n", f.base.Redacted(), resp.Status)
			}
			return exitFail
		}
		return printEvents(ctx, resp.Body, f.count, stdout, stderr)
	}
}

// printEvents prints the data of each "message" event of an event stream
// until it ends, count messages were printed (0: no bound) or ctx is done.
func printEvents(ctx context.Context, r io.Reader, count int, stdout, stderr io.Writer) int {
	lines := bufio.NewScanner(r)
	lines.Buffer(make([]byte, 0, 64<<10), int(maxReply))
	event, printed := "", 0
	for lines.Scan() {
		line := lines.Text()
		switch {
		case line == "":
			event = ""
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "message":
			fmt.Fprintln(stdout, strings.TrimPrefix(line, "data: "))
			if printed++; count > 0 && printed >= count {
				return exitOK
			}
		case strings.HasPrefix(line, "data: ") && event == "dropped":
			fmt.Fprintln(stderr, "wactor: the server dropped this subscriber (it fell behind, or is stopping)")
			return exitFail
		}
	}
	if ctx.Err() != nil && count == 0 {
		return exitOK // followed until --timeout
	}
	fmt.Fprintln(stderr, "wactor: the event stream ended")
	return exitFail
}
