// Command hostile is an actor that misbehaves on purpose, one method per
// attack, so that tests can show the host survives each one and commits
// nothing of the failed turn. Every attack first writes state and sends a
// tell, which must then never be seen.
//
//	write {"key": k, "value": v}  -> {}            a well-behaved write
//	read  {"key": k}              -> {"value": v}  (absent: {})
//	fail_after_write              -> application error code "refused"
//	panic                         -> trapped
//	spin                          -> turn_timeout
//	oom                           -> memory_exhausted
//	recurse                       -> trapped (stack exhausted)
//	tell {"to": ref, "method": m, "payload": p} -> {}  a tell, committed with the turn
//	ask  {"to": ref, "method": m, "payload": p} -> the reply   (errors pass through)
//	deactivate                    -> {}            asks to be deactivated
//	unreachable                   -> trapped (a runtime panic: nil map write)
//	huge_reply {"size": n}        -> too_large (a reply of n bytes, default 2 MiB)
//	ask_self                      -> deadlock
//	ask_cycle {"peer": ref}       -> deadlock (asks peer to ask it back)
//	tell_flood {"count": n}       -> too_large (n tells, default 10,001)
//	state_bomb {"keys": n, "size": s} -> too_large (n keys, then one value of s bytes)
//	env {"name": n}               -> {"value": v} (absent: {}), os.Getenv
//	read_file {"path": p}         -> {"data": bytes}, os.ReadFile; errors: "io"
//	write_file {"path": p, "data": d} -> {}, os.WriteFile; errors: "io"
//	fs {"op": o, "path": p, "to": q} -> {} or {"value": ...}; errors: "io"
//	   o is symlink (a link at q to p), link (q to p), rename (p to q),
//	   readlink, readdir (the names), mkdir or remove of p
//	bump                          -> {"n": n}  adds one to a count kept only in the instance's memory
//	random                        -> {"n": n}  a number from math/rand/v2
//	now                           -> {"n": n}  time.Now in Unix nanoseconds, and
//	                                 {"since_init": d} when init read the clock
//
// The environment variable HOSTILE_INIT, read during initialisation, makes
// it do there what a snapshot of the initialised instance cannot keep:
// "clock" reads the wall clock, "print" writes to standard error.
//
// bad_pointer and bad_cbor need raw host calls: they are in the C twin,
// examples/wasm/c/hostile.
package main

import (
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	wactor "github.com/wactor/wactor/guest-sdk/go"
)

func init() {
	// Go's default 1 GiB stack limit lets recurse fight the memory limit
	// first (slowly: the garbage collector runs at each failed growth).
	// With 8 MiB and 1 KiB frames it overflows in a few thousand frames,
	// which the runtime's fatal traceback walks quickly.
	debug.SetMaxStack(8 << 20)

	switch os.Getenv("HOSTILE_INIT") {
	case "clock":
		initTime = time.Now()
	case "print":
		println("hostile: initialising")
	}
	wactor.Handle("bump", func(*wactor.Context, []byte) ([]byte, error) {
		bumps++
		return wactor.NewMap().Int("n", int64(bumps)).Encode(), nil
	})
	wactor.Handle("random", func(*wactor.Context, []byte) ([]byte, error) {
		return wactor.NewMap().Int("n", rand.Int64()).Encode(), nil
	})
	wactor.Handle("now", func(*wactor.Context, []byte) ([]byte, error) {
		m := wactor.NewMap().Int("n", time.Now().UnixNano())
		if !initTime.IsZero() {
			m.Int("since_init", int64(time.Since(initTime)))
		}
		return m.Encode(), nil
	})

	wactor.Handle("write", write)
	wactor.Handle("read", read)
	wactor.Handle("fail_after_write", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		return nil, wactor.NewError("refused", "this actor refuses after writing")
	})
	wactor.Handle("panic", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		panic("hostile: panic on purpose")
	})
	wactor.Handle("spin", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		for i := 0; ; i++ {
			sink = i
		}
	})
	wactor.Handle("oom", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		for {
			hoard = append(hoard, make([]byte, 1<<20))
		}
	})
	wactor.Handle("recurse", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		return nil, wactor.NewError("unreachable", string(rune(recurse(1))))
	})
	wactor.Handle("unreachable", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		var m map[string]int
		m["boom"] = 1 // a nil map write: Go's runtime panics, the guest exits
		return nil, nil
	})
	wactor.Handle("huge_reply", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		dirty(ctx)
		n := intArg(payload, "size", 2<<20)
		return wactor.NewMap().Bytes("blob", make([]byte, n)).Encode(), nil
	})
	wactor.Handle("ask_self", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		dirty(ctx)
		return ctx.Ask(ctx.Self().String(), "read", wactor.NewMap().Text("key", "k").Encode(), 0)
	})
	wactor.Handle("ask_cycle", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		dirty(ctx)
		doc, _ := wactor.ParseDoc(payload)
		peer, _ := doc.Text("peer")
		back := wactor.NewMap().Text("to", ctx.Self().String()).Text("method", "read").
			Map("payload", wactor.NewMap().Text("key", "k"))
		return ctx.Ask(peer, "ask", back.Encode(), 0)
	})
	wactor.Handle("tell_flood", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		dirty(ctx)
		n := intArg(payload, "count", 10001)
		body := wactor.NewMap().Text("key", "flood").Int("value", 1).Encode()
		for i := 0; i < n; i++ {
			if err := ctx.Tell(ctx.Self().String(), "write", body); err != nil {
				return nil, err
			}
		}
		return empty(), nil
	})
	wactor.Handle("state_bomb", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		dirty(ctx)
		keys := intArg(payload, "keys", 1000)
		for i := 0; i < keys; i++ {
			ctx.Set("bomb-"+strconv.Itoa(i), []byte{0x01})
		}
		ctx.Set("bomb", make([]byte, intArg(payload, "size", 2<<20)))
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return empty(), nil
	})
	wactor.Handle("env", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		doc, _ := wactor.ParseDoc(payload)
		name, _ := doc.Text("name")
		v, ok := os.LookupEnv(name)
		if !ok {
			return empty(), nil
		}
		return wactor.NewMap().Text("value", v).Encode(), nil
	})
	wactor.Handle("read_file", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		doc, _ := wactor.ParseDoc(payload)
		path, _ := doc.Text("path")
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, wactor.NewError("io", err.Error())
		}
		return wactor.NewMap().Bytes("data", data).Encode(), nil
	})
	wactor.Handle("write_file", func(ctx *wactor.Context, payload []byte) ([]byte, error) {
		doc, _ := wactor.ParseDoc(payload)
		path, _ := doc.Text("path")
		data, _ := doc.Bytes("data")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, wactor.NewError("io", err.Error())
		}
		return empty(), nil
	})
	wactor.Handle("fs", fileOp)
	wactor.Handle("tell", tell)
	wactor.Handle("ask", ask)
	wactor.Handle("deactivate", func(ctx *wactor.Context, _ []byte) ([]byte, error) {
		ctx.Deactivate()
		return empty(), nil
	})
}

func main() {}

var (
	sink     int
	hoard    [][]byte
	bumps    int
	initTime time.Time
)

func recurse(n int) int {
	var pad [1024]byte
	pad[n%len(pad)] = byte(n)
	return recurse(n+1) + int(pad[0])
}

// dirty writes state and sends a tell that a failed turn must drop.
func dirty(ctx *wactor.Context) {
	ctx.Set("dirty", []byte{0xf5})
	_ = ctx.Tell(ctx.Self().String(), "write", wactor.NewMap().Text("key", "told").Int("value", 1).Encode())
}

// intArg reads an integer field of a JSON-shaped payload, or def.
func intArg(payload []byte, key string, def int) int {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return def
	}
	if n, ok := doc.Int(key); ok && n >= 0 {
		return int(n)
	}
	return def
}

func empty() []byte { return wactor.NewMap().Encode() }

func write(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	key, ok := doc.Text("key")
	if !ok {
		return nil, wactor.NewError(wactor.CodeBadRequest, `write needs a text "key"`)
	}
	ctx.Set(key, doc.Get("value").Raw())
	return empty(), nil
}

func read(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	key, _ := doc.Text("key")
	v, ok := ctx.Get(key)
	if !ok {
		return empty(), nil
	}
	return wactor.NewMap().Raw("value", v).Encode(), nil
}

func tell(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	to, _ := doc.Text("to")
	method, _ := doc.Text("method")
	body := doc.Get("payload").Raw()
	if err := ctx.Tell(to, method, body); err != nil {
		return nil, err
	}
	return empty(), nil
}

func ask(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, err := wactor.ParseDoc(payload)
	if err != nil {
		return nil, err
	}
	to, _ := doc.Text("to")
	method, _ := doc.Text("method")
	return ctx.Ask(to, method, doc.Get("payload").Raw(), 0)
}

// fileOp runs one file system call, for the tests of folder grants.
func fileOp(ctx *wactor.Context, payload []byte) ([]byte, error) {
	doc, _ := wactor.ParseDoc(payload)
	op, _ := doc.Text("op")
	p, _ := doc.Text("path")
	to, _ := doc.Text("to")
	reply := wactor.NewMap()
	var err error
	switch op {
	case "symlink":
		err = os.Symlink(p, to)
	case "link":
		err = os.Link(p, to)
	case "rename":
		err = os.Rename(p, to)
	case "readlink":
		var target string
		if target, err = os.Readlink(p); err == nil {
			reply.Text("value", target)
		}
	case "readdir":
		var entries []os.DirEntry
		if entries, err = os.ReadDir(p); err == nil {
			names := ""
			for _, e := range entries {
				names += e.Name() + "\n"
			}
			reply.Text("value", names)
		}
	case "mkdir":
		err = os.Mkdir(p, 0o755)
	case "remove":
		err = os.Remove(p)
	default:
		return nil, wactor.NewError(wactor.CodeBadRequest, "fs: unknown op "+op)
	}
	if err != nil {
		return nil, wactor.NewError("io", err.Error())
	}
	return reply.Encode(), nil
}
