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
	"time"
)

// listFlags are the flags of the commands that read listings from a
// running wactor: reminders and deadletters.
type listFlags struct {
	clientFlags
	json bool
}

func (f *listFlags) register(fs *flag.FlagSet) {
	f.declare(fs)
	fs.BoolVar(&f.json, "json", false, "print the listing as the HTTP API returns it")
}

// get reads the listing at path for the command name. With --json it
// prints it and returns nil and the exit code, as it does when the
// request fails; otherwise it returns the body for the caller to print.
func (f *listFlags) get(name, path string, stdout, stderr io.Writer) ([]byte, int) {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	req, err := f.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, usageError(stderr, name, "%v", err)
	}
	body, ok := f.roundTrip(req, stderr)
	if !ok {
		return nil, exitFail
	}
	if f.json {
		fmt.Fprintf(stdout, "%s\n", strings.TrimSpace(string(body)))
		return nil, exitOK
	}
	return body, exitOK
}

// remindersFlags are the flags of "wactor reminders".
type remindersFlags struct{ listFlags }

func setupReminders(fs *flag.FlagSet) runner {
	f := new(remindersFlags)
	f.register(fs)
	return f.run
}

// reminderListing is the answer of GET /v1/actors/{type}/{id}/reminders.
type reminderListing struct {
	Reminders []struct {
		Actor   string `json:"actor"`
		Name    string `json:"name"`
		Method  string `json:"method"`
		Due     string `json:"due"`
		Kind    string `json:"kind"`
		EveryMS int64  `json:"every_ms"`
		Cron    string `json:"cron"`
		Missed  string `json:"missed"`
	} `json:"reminders"`
}

func (f *remindersFlags) run(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || len(args) > 2 || args[0] != "list" {
		return usageError(stderr, "reminders", "reminders takes list [TYPE/ID], as in: wactor reminders list alarm/a")
	}
	// Without an actor: every actor's reminders, the next due first.
	path, none := "/v1/reminders", "no actor has reminders"
	if len(args) == 2 {
		typ, id, ok := strings.Cut(args[1], "/")
		if !ok || typ == "" || id == "" {
			return usageError(stderr, "reminders", "actor %q is not of the form TYPE/ID, as in alarm/a", args[1])
		}
		path = "/v1/actors/" + url.PathEscape(typ) + "/" + url.PathEscape(id) + "/reminders"
		none = args[1] + " has no reminders"
	}
	body, code := f.get("reminders", path, stdout, stderr)
	if body == nil {
		return code
	}
	var list reminderListing
	if err := json.Unmarshal(body, &list); err != nil {
		fmt.Fprintf(stderr, "wactor: %s answered something that is not a reminder listing: %v\n", f.base.Redacted(), err)
		return exitFail
	}
	if len(list.Reminders) == 0 {
		fmt.Fprintln(stdout, none)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	all := len(args) == 1 // name each reminder's actor
	if all {
		fmt.Fprint(tw, "ACTOR\t")
	}
	fmt.Fprintln(tw, "NAME\tSCHEDULE\tNEXT (UTC)\tMETHOD\tMISSED")
	for _, r := range list.Reminders {
		schedule := r.Kind
		switch r.Kind {
		case "every":
			schedule = "every " + (time.Duration(r.EveryMS) * time.Millisecond).String()
		case "cron":
			schedule = "cron " + r.Cron
		}
		if all {
			fmt.Fprintf(tw, "%s\t", r.Actor)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, schedule, r.Due, r.Method, r.Missed)
	}
	tw.Flush()
	return exitOK
}
