package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
)

// deadLettersFlags are the flags of "wactor deadletters".
type deadLettersFlags struct{ listFlags }

func setupDeadLetters(fs *flag.FlagSet) runner {
	f := new(deadLettersFlags)
	f.register(fs)
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
}

func (f *deadLettersFlags) run(args []string, stdout, stderr io.Writer) int {
	const usage = "deadletters takes list, replay ID or delete ID, as in: wactor deadletters replay 0000018f2c3a9e10"
	var method, path string
	switch {
	case len(args) == 1 && args[0] == "list":
		method, path = http.MethodGet, "/v1/deadletters"
	case len(args) == 2 && args[0] == "replay":
		method, path = http.MethodPost, "/v1/deadletters/"+url.PathEscape(args[1])+"/replay"
	case len(args) == 2 && args[0] == "delete":
		method, path = http.MethodDelete, "/v1/deadletters/"+url.PathEscape(args[1])
	default:
		return usageError(stderr, "deadletters", usage)
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	req, err := f.request(ctx, method, path, nil)
	if err != nil {
		return usageError(stderr, "deadletters", "%v", err)
	}
	body, ok := f.roundTrip(req, stderr)
	if !ok {
		return exitFail
	}
	if args[0] != "list" {
		fmt.Fprintf(stdout, "%sed %s\n", strings.TrimSuffix(args[0], "e"), args[1])
		return exitOK
	}
	if f.json {
		fmt.Fprintf(stdout, "%s\n", strings.TrimSpace(string(body)))
		return exitOK
	}
	var list deadLetterListing
	if err := json.Unmarshal(body, &list); err != nil {
		fmt.Fprintf(stderr, "wactor: %s answered something that is not a dead letter listing: %v\n", f.base.Redacted(), err)
		return exitFail
	}
	if len(list.Deadletters) == 0 {
		fmt.Fprintln(stdout, "no dead letters")
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTARGET\tMETHOD\tATTEMPTS\tAT (UTC)\tERROR")
	for _, d := range list.Deadletters {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Target, d.Method, d.Attempts, d.At, d.Error)
	}
	tw.Flush()
	return exitOK
}
