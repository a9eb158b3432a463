// Command wactor runs WebAssembly actors and talks to a running wactor.
//
//	wactor run -f wactor.yaml           serve the actor types of a manifest over HTTP
//	wactor call counter/a add '{"n":7}' ask an actor and print its reply
//	wactor tell counter/a add '{"n":7}' queue a message without waiting for its turn
//	wactor reminders list alarm/a       list the durable reminders of an actor
//	wactor state counter/a              print an actor's committed state as JSON
//	wactor deadletters list --all       list the tells wactor gave up on
//	wactor cluster status               list the members of a cluster
//	wactor inspect counter.wasm         show what the host sees in a module
//	wactor new go hello                 start an actor project that builds and tests as it is
//	wactor version                      print the versions of wactor, Go and wazero
//
// Run "wactor help COMMAND" for the arguments and flags of a command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// version is wactor's version, set at build time with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed
	exitUsage = 2 // the command line or the manifest is wrong
)

// runner runs a command with its positional arguments, once its flags are
// parsed, and returns the exit code.
type runner func(args []string, stdout, stderr io.Writer) int

// command is one subcommand.
type command struct {
	name    string
	args    string // the synopsis after the name
	summary string
	help    string // more text for "wactor help NAME"; may be empty
	// setup declares the command's flags on fs and returns the runner that
	// uses them.
	setup func(fs *flag.FlagSet) runner
}

// commands lists the subcommands in the order help shows them. It is a
// function, not a variable, because the help command refers to it.
func commands() []command {
	return []command{
		{
			name:    "run",
			args:    "[-f FILE] [--http-addr ADDR] [--data-dir DIR] [--cache-dir DIR] [--log-level LEVEL] [--token-file FILE] [--insecure-no-token] [--node NAME] [--nats-addr HOST:PORT] [--nats-cluster-addr HOST:PORT] [--insecure-nats]",
			summary: "serve the actor types of a manifest over HTTP",
			help: `Loads the manifest, opens the store, deploys every actor type and serves
the HTTP API until SIGINT or SIGTERM, then stops taking requests, lets the
requests in flight finish and closes the store. A second signal exits at
once with 1. Problems in the manifest are printed as FILE:LINE:COLUMN
lines and exit with 2. Logs go to stderr: text on a terminal, else JSON.

It listens before it deploys: /healthz answers at once, /readyz answers
503 with the progress ({"status":"starting","deployed":3,"types":16}) and
the other routes 503 until every type is deployed. Types compile in
parallel, one per core; each logs its compile_ms and whether the compile
cache (--cache-dir; see wactor help cache) had it.

SIGHUP rereads the manifest and deploys, live, every type whose module or
settings changed and every new type; actors keep their state. A manifest
with errors, or a module that does not load, changes nothing and is
logged. Types left out of the manifest, storage and http settings need a
restart. In a cluster, every other node deploys the modules a SIGHUP
deployed too.

The control plane (dead letters, listings, types: every route but calling
actors and the health checks) requires a bearer token when one is set: by
--token-file, else $WACTOR_TOKEN, else the manifest's http.token_file or
http.token; at least 16 bytes (openssl rand -hex 32). Without a token it is
open, and wactor refuses to listen on an address other than loopback
(127.0.0.1, [::1], localhost) unless --insecure-no-token says to.

With a cluster section in the manifest the node joins that cluster (see
docs/cluster.md): --node names it (else $WACTOR_NODE, else the host
name); with cluster.routes it embeds a NATS server whose route port is
--nats-cluster-addr (else $WACTOR_NATS_CLUSTER_ADDR) and whose client port
is --nats-addr (else $WACTOR_NATS_ADDR, else a free port on 127.0.0.1),
keeping JetStream's files in nats/ under the data folder. Those ports
have no authentication: beyond loopback they need --insecure-nats.

Example, one of three nodes on one machine:
  wactor run -f cluster.yaml --node n1 --http-addr 127.0.0.1:8081 \
    --data-dir data/n1 --nats-addr 127.0.0.1:4222 --nats-cluster-addr 127.0.0.1:6222
`,
			setup: setupServe,
		},
		{
			name:    "call",
			args:    "TYPE/ID METHOD [JSON] [--addr URL] [--token-file FILE] [--idempotency-key KEY] [--timeout D]",
			summary: "ask an actor and print its reply",
			help: `Posts the message to the HTTP API of a running wactor and prints the
reply as JSON. JSON is the payload; leave it out to send none. On an error
prints "wactor: CODE: MESSAGE" to stderr and exits with 1. The address is
--addr, else $WACTOR_ADDR, else http://127.0.0.1:8080. Every command that
talks to wactor sends the bearer token in --token-file, else $WACTOR_TOKEN,
when one is set.

Example:
  wactor call counter/a add '{"n":7}'
`,
			setup: setupCall(false),
		},
		{
			name:    "tell",
			args:    "TYPE/ID METHOD [JSON] [--addr URL] [--token-file FILE] [--idempotency-key KEY] [--timeout D]",
			summary: "queue a message for an actor without waiting for its turn",
			help: `Like call, but the message is only accepted (HTTP 202): it is stored
before the command returns and processed afterwards. Prints "accepted".

Example:
  wactor tell counter/a add '{"n":1}'
`,
			setup: setupCall(true),
		},
		{
			name:    "publish",
			args:    "TOPIC [JSON] [--addr URL] [--token-file FILE] [--idempotency-key KEY] [--timeout D]",
			summary: "publish a message to a topic",
			help: `Posts the message to POST /v1/topics/TOPIC of a running wactor: every
actor subscribed to the topic gets it once. It is stored before the command
returns (HTTP 202). Prints "accepted". With --idempotency-key, running the
command again with the same key publishes nothing more.

Example:
  wactor publish rooms.42 '{"text":"hi"}'
`,
			setup: setupPublish,
		},
		{
			name:    "subscribe",
			args:    "TOPIC [--count N] [--addr URL] [--token-file FILE] [--timeout D]",
			summary: "print a topic's messages as they are published",
			help: `Follows GET /v1/topics/TOPIC/events of a running wactor and prints each
message published from then on as one JSON object a line: {"id", "topic",
"sender", "payload"}. Best effort: a subscriber that falls behind is
dropped (the command then exits with 1), and what was published before it
started or while it was away is not shown. Runs until --count messages or
--timeout (default 30s; give e.g. --timeout 24h to follow longer).

Example:
  wactor subscribe rooms.42 --count 1
`,
			setup: setupSubscribe,
		},
		{
			name:    "reminders",
			args:    "list [TYPE/ID] [--addr URL] [--token-file FILE] [--json] [--timeout D]",
			summary: "list the durable reminders of an actor, or of all",
			help: `Asks a running wactor for the reminders of one actor, whether it is active
or not, and prints their names, schedules, next firing times (UTC),
methods and missed-tick policies. Without TYPE/ID it lists every actor's
reminders, the next due first (the first 1,000). The address is --addr,
else $WACTOR_ADDR, else http://127.0.0.1:8080. A node with a token needs
it: $WACTOR_TOKEN or --token-file.

Example:
  wactor reminders list alarm/a
  wactor reminders list
`,
			setup: setupReminders,
		},
		{
			name:    "state",
			args:    "TYPE/ID [--key KEY | --cursor KEY --limit N] [--addr URL] [--token-file FILE] [--timeout D]",
			summary: "print an actor's committed state as JSON, read only",
			help: `Asks a running wactor for the state an actor's last committed turn left,
whether it is active or not, and prints it as the HTTP API returns it:
its version, key count and size, and a page of keys (100 by default,
--limit up to 1000) with their values as JSON. next_cursor, passed to
--cursor, gives the next page. A value over 64 KiB is left out of a page;
--key KEY prints that key alone, whole. The address is --addr, else
$WACTOR_ADDR, else http://127.0.0.1:8080. A node with a token needs it:
$WACTOR_TOKEN or --token-file.

Example:
  wactor state counter/a
  wactor state counter/a --key n
`,
			setup: setupState,
		},
		{
			name:    "deadletters",
			args:    "list [--limit N] [--cursor C] [--all] | show ID | replay ID | delete ID [--addr URL] [--token-file FILE] [--json] [--timeout D]",
			summary: "list, show, replay or delete the tells wactor gave up on",
			help: `A tell whose turn fails three times (the actor traps, runs out of time
or memory), or that the actor refuses with an error of its own, is kept as
a dead letter with its error, within the cap of the manifest's
dead_letters section (the oldest are dropped first). list prints one page
(--limit letters, the server's default 100 when not given) and the cursor
of the next, which --cursor takes; --all follows the cursor to the last
page, printing each page as it comes. show ID prints one dead letter with
its whole payload as JSON; replay ID sends it again as a new tell; delete
ID forgets it. The address is --addr, else $WACTOR_ADDR, else
http://127.0.0.1:8080. A node with a token needs it: $WACTOR_TOKEN or
--token-file.

Example:
  wactor deadletters list --all
  wactor deadletters show 0000018f2c3a9e104c1d7e2a9b03f658
  wactor deadletters replay 0000018f2c3a9e104c1d7e2a9b03f658
`,
			setup: setupDeadLetters,
		},
		{
			name:    "cluster",
			args:    "status [--addr URL] [--token-file FILE] [--json] [--timeout D]",
			summary: "show the members of the cluster a running wactor belongs to",
			help: `Asks a running wactor (GET /v1/cluster) for the members of its cluster as
it sees them: each node's state (joining, active, leaving), activations,
HTTP address and start time; the node answering is marked *. A wactor
without a cluster section says it runs alone. The address is --addr, else
$WACTOR_ADDR, else http://127.0.0.1:8080. A node with a token needs it:
$WACTOR_TOKEN or --token-file.

Example:
  wactor cluster status --addr 127.0.0.1:8081
`,
			setup: setupClusterCmd,
		},
		{
			name:    "inspect",
			args:    "MODULE.wasm | --type TYPE [-f FILE] [MODULE.wasm]",
			summary: "show a module's ABI version, exports, imports and problems",
			help: `Loads the module exactly as wactor run deploys it, with the same limits
(max_memory, max_table_entries, the start-up limit, WASI closed), and
prints its ABI version, its exports and imports, and every reason the host
would refuse it. Exits with 1 when there are problems. The limits are the
defaults of a type that sets none, or with --type those of that type in
the manifest (-f), whose module is inspected unless MODULE is given.

Example:
  wactor inspect counter.wasm
  wactor inspect --type counter -f wactor.yaml
`,
			setup: setupInspect,
		},
		{
			name:    "new",
			args:    "LANG NAME [--sdk DIR] [-o DIR]",
			summary: "start an actor project (go, tinygo, rust, c, assemblyscript)",
			help: `Writes a project folder (./NAME unless -o) for an actor type NAME in LANG:
the actor (a counter: add {"n": 5} and get answer {"n": total}), a
Makefile (make build writes NAME.wasm, make test runs the native unit
test), the manifest wactor.yaml that serves it (copy its actors entry into
yours), and a README saying how to build, test, run and call it. The
project builds and passes its test as it is.

The guest SDKs are not published yet: the project uses those of a wactor
checkout, --sdk DIR, by default the one the current folder is in, else the
one wactor was built in. A Go project's go.mod requires the SDK module by
its path and version, as it will once published; until then a go.work
file next to it makes the Go tool use the checkout's SDK (delete it once
the SDK is published; no replace directive is involved). Rust, C and
AssemblyScript projects name the checkout's SDK folder in Cargo.toml or
the Makefile. TinyGo itself is untested: the tinygo project also builds
with Go's own wasip1 port (make build-go).

NAME is lower-case letters, digits, '-' and '_', starting with a letter.

Example:
  wactor new go hello && cd hello && make test build && wactor run -f wactor.yaml
`,
			setup: setupNew,
		},
		{
			name:    "cache",
			args:    "info | clean [-f FILE] [--data-dir DIR] [--cache-dir DIR]",
			summary: "show or empty the folder of compiled modules",
			help: `wactor run compiles each module once and keeps the machine code in a
folder, so that the next start reads it instead of compiling again
(seconds for a standard-Go guest). The folder is --cache-dir when given,
else cache/ in the data folder (--data-dir, else the manifest's
storage.path), else, with storage kind memory, wactor/ in the user's cache
folder ($XDG_CACHE_HOME or ~/.cache on Linux). info prints the folder,
how many compiled modules it holds and their size; clean deletes them with
their seals (other files stay). Nothing in it is needed: a module missing
from it is compiled again at the next start. A new wactor or wazero
version leaves the old version's entries behind until clean.

Example:
  wactor cache info -f examples/wactor.built.yaml
  wactor cache clean -f examples/wactor.built.yaml
`,
			setup: setupCache,
		},
		{
			name:    "version",
			summary: "print the versions of wactor, Go and wazero",
			setup:   func(*flag.FlagSet) runner { return runVersion },
		},
		{
			name:    "help",
			args:    "[COMMAND]",
			summary: "show help for wactor or for one command",
			setup:   func(*flag.FlagSet) runner { return runHelp },
		},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run is the whole program: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		return runVersion(nil, stdout, stderr)
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "wactor: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	fs := newFlagSet(c, stderr)
	r := c.setup(fs)
	pos, code := parseArgs(fs, args[1:])
	switch {
	case code == exitOK:
		commandUsage(stdout, c, fs)
		return exitOK
	case code >= 0:
		fmt.Fprintf(stderr, "Run \"wactor help %s\" for usage.\n", c.name)
		return code
	}
	return r(pos, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `wactor runs WebAssembly actors.

Usage:
  wactor COMMAND [ARGUMENTS]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "wactor help COMMAND" for the arguments and flags of a command.
`)
}

func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "wactor: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	fs := newFlagSet(c, stderr)
	c.setup(fs)
	commandUsage(stdout, c, fs)
	return exitOK
}

// commandUsage prints the help of c, whose flags are declared on fs, to w.
func commandUsage(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: wactor %s %s\n\n%s%s.\n", c.name, c.args, strings.ToUpper(c.summary[:1]), c.summary[1:])
	if c.help != "" {
		fmt.Fprintf(w, "\n%s", c.help)
	}
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprint(w, "\nFlags:\n")
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
}

// newFlagSet returns an empty flag set for c that reports parse errors to
// stderr; run prints the usage itself.
func newFlagSet(c command, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("wactor "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses flags wherever they appear among the positional
// arguments (the flag package alone stops at the first positional one) and
// returns the positional arguments; everything after "--" is positional.
// The code is exitOK for -h, exitUsage for a bad flag, and -1 otherwise.
func parseArgs(fs *flag.FlagSet, args []string) (pos []string, code int) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK
			}
			return nil, exitUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, -1
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), -1
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError prints a problem with the command line of the command name,
// and returns exitUsage.
func usageError(stderr io.Writer, name, format string, a ...any) int {
	fmt.Fprintf(stderr, "wactor: "+format+"\n", a...)
	fmt.Fprintf(stderr, "Run \"wactor help %s\" for usage.\n", name)
	return exitUsage
}
