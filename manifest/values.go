package manifest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// version reads the version field.
func (d *decoder) version(v ast.Node, path string, m *Manifest) {
	n, site, ok := d.integer(v, path, "the integer 1")
	if !ok {
		return
	}
	if n != Version {
		d.errAt(site, path, "unsupported manifest version %d; supported versions: %d (write version: %d)", n, Version, Version)
		return
	}
	m.Version = int(n)
}

// http reads the http mapping.
func (d *decoder) http(v ast.Node, path string, h *HTTP) {
	mm, site, ok := d.mapping(v, path, "a mapping with addr, max_body and token_file")
	if !ok || mm == nil {
		return
	}
	present := d.fields(mm, site, path, httpSection, func(key string, v ast.Node, p string) {
		switch key {
		case "addr":
			if s, site, ok := d.str(v, p, "host:port, e.g. 127.0.0.1:8080"); ok {
				if msg := checkAddr(s); msg != "" {
					d.errAt(site, p, "%s", msg)
				} else {
					h.Addr = s
				}
			}
		case "max_body":
			if s, ok := d.size(v, p, 1, MaxBodyLimit); ok {
				h.MaxBody = s
			}
		case "token_file":
			d.tokenFile(v, p, h)
		case "token":
			d.token(v, p, h)
		}
	})
	if e, both := present["token"]; both {
		if _, file := present["token_file"]; file {
			d.errAt(e.keyNode, join(path, "token"), "give token_file or token, not both; token_file keeps the secret out of the manifest")
			h.Token, h.TokenFile = "", ""
		}
	}
}

// deadLetters reads the dead_letters mapping.
func (d *decoder) deadLetters(v ast.Node, path string, dl *DeadLetters) {
	mm, site, ok := d.mapping(v, path, "a mapping with max_count and max_bytes")
	if !ok || mm == nil {
		return
	}
	d.fields(mm, site, path, deadSection, func(key string, v ast.Node, p string) {
		switch key {
		case "max_count":
			if n, site, ok := d.integer(v, p, "a whole number of dead letters"); ok {
				if n < 1 || n > MaxDeadLetterCount {
					d.errAt(site, p, "max_count must be from 1 to %d, got %d", MaxDeadLetterCount, n)
				} else {
					dl.MaxCount = int(n)
				}
			}
		case "max_bytes":
			if s, ok := d.size(v, p, MinDeadLetterBytes, MaxDeadLetterBytes); ok {
				dl.MaxBytes = s
			}
		}
	})
}

// metrics reads the metrics mapping.
func (d *decoder) metrics(v ast.Node, path string, mt *Metrics) {
	mm, site, ok := d.mapping(v, path, "a mapping with enabled")
	if !ok || mm == nil {
		return
	}
	d.fields(mm, site, path, metricsSection, func(key string, v ast.Node, p string) {
		if key == "enabled" {
			if b, ok := d.boolean(v, p); ok {
				mt.Enabled = b
			}
		}
	})
}

// checkAddr explains what is wrong with a listen address, or returns "".
func checkAddr(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("%s is not host:port; write e.g. 127.0.0.1:8080, [::1]:8080, or :8080 for every interface", quote(s))
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Sprintf("%s is not a valid host; write an IP address or a host name", quote(host))
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > math.MaxUint16 {
		return fmt.Sprintf("port %s is not a number from 0 to 65535", quote(port))
	}
	return ""
}

// storage reads the storage mapping.
func (d *decoder) storage(v ast.Node, path string, s *Storage) {
	mm, site, ok := d.mapping(v, path, "a mapping with kind, path and sync")
	if !ok || mm == nil {
		return
	}
	present := d.fields(mm, site, path, storageSection, func(key string, v ast.Node, p string) {
		switch key {
		case "kind":
			kind, site, ok := d.str(v, p, "badger or memory")
			if !ok {
				return
			}
			switch StorageKind(kind) {
			case StorageBadger, StorageMemory:
				s.Kind = StorageKind(kind)
			default:
				d.errAt(site, p, "unknown storage kind %s; use badger (durable, on disk) or memory (lost on exit)", quote(kind))
			}
		case "path":
			dir, site, ok := d.str(v, p, "a folder path")
			if !ok {
				return
			}
			if dir == "" {
				d.errAt(site, p, "empty path; name the data folder, e.g. path: ./data, or remove the key for the default %q", DefaultStoragePath)
				return
			}
			s.Path = dir
			d.storagePath = site
		case "sync":
			if b, ok := d.boolean(v, p); ok {
				s.Sync = b
			}
		case "idempotency_retention":
			if dur, ok := d.duration(v, p); ok {
				s.IdempotencyRetention = dur
			}
		}
	})
	if s.Kind == StorageMemory {
		for _, k := range []string{"path", "sync"} {
			if e, ok := present[k]; ok {
				d.errAt(e.keyNode, join(path, k), "%s is not used by kind memory, which keeps nothing on disk; remove it, or set kind: badger", k)
			}
		}
		s.Path, s.Sync = "", false
	}
}

// actors reads the actors list.
func (d *decoder) actors(v ast.Node, path string, m *Manifest) {
	n, site, ok := d.value(v, path)
	if !ok {
		return
	}
	const none = "no actor types; list at least one entry giving type and module"
	seq, isSeq := n.(*ast.SequenceNode)
	if !isSeq {
		if _, null := n.(*ast.NullNode); null || isNil(n) {
			d.errAt(site, path, "%s", none)
			return
		}
		d.wrongType(site, path, "a list of actor types (entries giving type and module)", n, "")
		return
	}
	if len(seq.Values) == 0 {
		d.errAt(site, path, "%s", none)
		return
	}
	seen := map[string]ast.Node{}
	for i, item := range seq.Values {
		p := fmt.Sprintf("%s[%d]", path, i)
		if _, null := item.(*ast.NullNode); (null || isNil(item)) && i < len(seq.Entries) && seq.Entries[i] != nil && seq.Entries[i].Start != nil {
			item = ast.Null(seq.Entries[i].Start) // point at the "-" of an empty entry
		}
		a, typeSite := d.actor(item, p)
		if typeSite != nil {
			if first, dup := seen[a.Type]; dup {
				line, _ := position(first)
				d.errAt(typeSite, join(p, "type"), "duplicate actor type %q, first defined at line %d; give each type a unique name", a.Type, line)
			} else {
				seen[a.Type] = typeSite
			}
		}
		m.Actors = append(m.Actors, a)
	}
}

// actor reads one entry of the actors list. It returns the node of a valid
// type name, or nil.
func (d *decoder) actor(v ast.Node, path string) (Actor, ast.Node) {
	a := Actor{
		Mailbox:     DefaultMailbox,
		MaxMessage:  DefaultMaxMessage,
		MaxMemory:   DefaultMaxMemory,
		TurnTimeout: DefaultTurnTimeout,
		IdleTimeout: DefaultIdleTimeout,
		AskTimeout:  DefaultAskTimeout,
	}
	const want = "a mapping giving type, module and optional limits"
	mm, site, ok := d.mapping(v, path, want)
	if !ok {
		return a, nil
	}
	if mm == nil {
		d.errAt(site, path, "empty entry; give at least type and module")
		return a, nil
	}
	var typeSite ast.Node
	sizesOK := true
	present := d.fields(mm, site, path, actorSection, func(key string, v ast.Node, p string) {
		switch key {
		case "type":
			if s, site, ok := d.str(v, p, "a type name"); ok {
				if msg := checkTypeName(s); msg != "" {
					d.errAt(site, p, "%s", msg)
				} else {
					a.Type, typeSite = s, site
				}
			}
		case "module":
			if s, site, ok := d.str(v, p, "the path of a .wasm file"); ok {
				if s == "" {
					d.errAt(site, p, "empty path; give the path of the actor's .wasm file")
					return
				}
				a.Module = d.abs(s)
				if msg := d.checkModule(a.Module); msg != "" {
					d.errAt(site, p, "%s", msg)
				}
			}
		case "mailbox":
			if n, ok := d.bounded(v, p, "mailbox", "messages", 1, MaxMailbox); ok {
				a.Mailbox = n
			}
		case "max_message":
			if s, ok := d.size(v, p, 1, MaxMessageLimit); ok {
				a.MaxMessage = s
			} else {
				sizesOK = false
			}
		case "max_memory":
			s, site, ok := d.sizeSite(v, p, WasmPageSize, MaxMemoryLimit)
			if ok && s%WasmPageSize != 0 {
				up := (s/WasmPageSize + 1) * WasmPageSize
				d.errAt(site, p, "%d bytes is not a multiple of 64KiB, the WebAssembly page size; use e.g. %s", int64(s), up)
				ok = false
			}
			if ok {
				a.MaxMemory = s
			} else {
				sizesOK = false
			}
		case "max_table_entries":
			if n, ok := d.bounded(v, p, "max_table_entries", "table entries", 1, MaxTableEntriesLimit); ok {
				a.MaxTableEntries = n
			}
		case "turn_timeout":
			if t, ok := d.duration(v, p); ok {
				a.TurnTimeout = t
			}
		case "idle_timeout":
			if t, ok := d.duration(v, p); ok {
				a.IdleTimeout = t
			}
		case "ask_timeout":
			if t, ok := d.duration(v, p); ok {
				a.AskTimeout = t
			}
		case "env":
			a.Env = d.env(v, p)
		case "dirs":
			a.Dirs = d.dirs(v, p)
		case "stateless_worker":
			a.StatelessWorker = d.statelessWorker(v, p)
		case "read_only":
			a.ReadOnly = d.readOnly(v, p)
		case "subscriptions":
			a.Subscriptions = d.subscriptions(v, p)
		case "reentrant":
			a.Reentrant = d.reentrant(v, p)
		}
	})
	if e, ok := present["reentrant"]; ok && a.Reentrant != "" && a.StatelessWorker.MaxLocal > 0 {
		d.errAt(e.keyNode, join(path, "reentrant"), "type %s is both reentrant and a stateless worker, which do not go together: "+
			"a stateless worker's asks never come back to the instance that waits, any free instance takes them; remove one of the two", quote(a.Type))
	}
	if _, ok := present["max_table_entries"]; !ok {
		a.MaxTableEntries = DefaultMaxTableEntries(a.MaxMemory)
	}
	if sizesOK && a.MaxMessage >= a.MaxMemory {
		// Point at whichever of the two the operator wrote.
		at, key := ast.Node(site), "max_message"
		if e, ok := present["max_message"]; ok {
			at = e.keyNode
		} else if e, ok := present["max_memory"]; ok {
			at, key = e.keyNode, "max_memory"
		}
		d.errAt(at, join(path, key), "max_message (%s) must be smaller than max_memory (%s): a message has to fit in guest memory; raise max_memory or lower max_message", a.MaxMessage, a.MaxMemory)
	}
	return a, typeSite
}

// checkTypeName explains what is wrong with an actor type name, or
// returns "".
func checkTypeName(s string) string {
	const rule = "use letters, digits, '.', '_' and '-', starting with a letter or digit"
	if s == "" {
		return "empty type name; " + rule
	}
	if len(s) > MaxTypeLen {
		return fmt.Sprintf("type name is %d bytes long, over the limit of %d; choose a shorter name", len(s), MaxTypeLen)
	}
	for i, r := range s {
		alnum := r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		if alnum || (i > 0 && (r == '.' || r == '_' || r == '-')) {
			continue
		}
		why := ""
		if r == '/' {
			why = " ('/' separates type and id in an actor ref)"
		}
		if i == 0 && (r == '.' || r == '_' || r == '-') {
			return fmt.Sprintf("type name %q starts with %q; %s", s, r, rule)
		}
		return fmt.Sprintf("type name %q contains %q%s; %s", s, r, why, rule)
	}
	return ""
}

// wasmMagic starts every WebAssembly binary.
var wasmMagic = []byte("\x00asm")

// checkModule explains why the file at path is not a WebAssembly core
// module of binary version 1, or returns "".
func (d *decoder) checkModule(path string) string {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("module file %s does not exist; build the actor or fix the path (relative paths start at the manifest's folder %s)", path, d.dir)
	}
	if err != nil {
		return fmt.Sprintf("cannot open the module: %v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("cannot read the module: %v", err)
	}
	if fi.IsDir() {
		return fmt.Sprintf("%s is a folder; module must name a compiled .wasm file", path)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Sprintf("%s is not a regular file; module must name a compiled .wasm file", path)
	}
	var hdr [8]byte
	n, err := io.ReadFull(f, hdr[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("cannot read the module: %v", err)
	}
	if n < 4 || !bytes.Equal(hdr[:4], wasmMagic) {
		switch {
		case n == 0:
			return fmt.Sprintf("%s is empty, not a WebAssembly module; rebuild the actor", path)
		case strings.HasPrefix(strings.TrimSpace(string(hdr[:n])), "("):
			return fmt.Sprintf("%s looks like WebAssembly text (.wat), not a binary module; compile it, e.g. with wat2wasm, and point module at the .wasm file", path)
		}
		return fmt.Sprintf("%s is not a WebAssembly module: it does not start with the magic bytes \\0asm; point module at the .wasm file the compiler produced", path)
	}
	if n < 8 {
		return fmt.Sprintf("%s is truncated: a WebAssembly module has an 8-byte header; rebuild it", path)
	}
	switch v := binary.LittleEndian.Uint32(hdr[4:]); {
	case v == 1:
		return ""
	case bytes.Equal(hdr[4:], []byte{0x0d, 0x00, 0x01, 0x00}):
		return fmt.Sprintf("%s is a WebAssembly component, not a core module; wactor runs core modules: build for wasip1 rather than wasip2", path)
	default:
		return fmt.Sprintf("%s has WebAssembly binary version %d; wactor reads version 1 only", path, v)
	}
}

// str reads a string value.
func (d *decoder) str(v ast.Node, path, want string) (string, ast.Node, bool) {
	n, site, ok := d.value(v, path)
	if !ok {
		return "", site, false
	}
	switch n := n.(type) {
	case *ast.StringNode:
		return n.Value, site, true
	case *ast.LiteralNode:
		if n.Value != nil {
			return n.Value.Value, site, true
		}
		return "", site, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		d.wrongType(site, path, "a string ("+want+")", n, "quote it if you mean the text: "+quote(nodeText(n)))
		return "", site, false
	}
	d.wrongType(site, path, "a string ("+want+")", n, "")
	return "", site, false
}

// bounded reads a whole number of units (as "messages") from lo to hi
// for the key name; the error says the range.
func (d *decoder) bounded(v ast.Node, path, name, units string, lo, hi int64) (int, bool) {
	n, site, ok := d.integer(v, path, "a whole number of "+units)
	if ok && (n < lo || n > hi) {
		d.errAt(site, path, "%s must be from %d to %d %s, got %d", name, lo, hi, units, n)
		ok = false
	}
	return int(n), ok
}

// integer reads an integer value.
func (d *decoder) integer(v ast.Node, path, want string) (int64, ast.Node, bool) {
	n, site, ok := d.value(v, path)
	if !ok {
		return 0, site, false
	}
	switch n := n.(type) {
	case *ast.IntegerNode:
		if msg := leadingZero(n); msg != "" {
			d.errAt(site, path, "%s", msg)
			return 0, site, false
		}
		if x, ok := intValue(n); ok {
			return x, site, true
		}
		d.errAt(site, path, "%s is too large", nodeText(n))
		return 0, site, false
	case *ast.StringNode:
		if isDigits(n.Value) {
			if quoted(n) {
				d.wrongType(site, path, want, n, "remove the quotes: "+n.Value)
			} else {
				// The YAML library leaves integers too large for int64 as strings.
				d.errAt(site, path, "%s is too large", n.Value)
			}
			return 0, site, false
		}
	}
	d.wrongType(site, path, want, n, "")
	return 0, site, false
}

// intValue returns the value of an integer node, if it fits in an int64.
func intValue(n *ast.IntegerNode) (int64, bool) {
	switch x := n.Value.(type) {
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// leadingZero refuses integers such as 010, which the YAML library reads
// as octal (8) where YAML 1.2 reads 10.
func leadingZero(n *ast.IntegerNode) string {
	txt := strings.TrimLeft(nodeText(n), "+-")
	if len(txt) > 1 && txt[0] == '0' && txt[1] >= '0' && txt[1] <= '9' {
		return fmt.Sprintf("%s starts with 0, which may be read as octal; write %s, or 0o%s if you mean octal", nodeText(n), strings.TrimLeft(txt, "0"), txt[1:])
	}
	return ""
}

// quoted reports whether a string scalar was written in quotes.
func quoted(n *ast.StringNode) bool {
	return n.Token != nil && (n.Token.Type == token.DoubleQuoteType || n.Token.Type == token.SingleQuoteType)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// size reads a size and checks it lies in [lo, hi].
func (d *decoder) size(v ast.Node, path string, lo, hi Size) (Size, bool) {
	s, _, ok := d.sizeSite(v, path, lo, hi)
	return s, ok
}

const sizeWant = "a size in bytes, such as 1048576, 64KiB, 16MiB or 1GiB"

// sizeSite reads a size, checks it lies in [lo, hi], and returns the node
// to blame for further errors.
func (d *decoder) sizeSite(v ast.Node, path string, lo, hi Size) (Size, ast.Node, bool) {
	n, site, ok := d.value(v, path)
	if !ok {
		return 0, site, false
	}
	var s Size
	switch n := n.(type) {
	case *ast.IntegerNode:
		if msg := leadingZero(n); msg != "" {
			d.errAt(site, path, "%s", msg)
			return 0, site, false
		}
		x, ok := intValue(n)
		if !ok {
			d.errAt(site, path, "%s is too large; the limit is %s", nodeText(n), hi)
			return 0, site, false
		}
		s = Size(x)
	case *ast.StringNode:
		var err error
		if s, err = ParseSize(n.Value); err != nil {
			d.errAt(site, path, "%v", err)
			return 0, site, false
		}
	case *ast.FloatNode:
		d.wrongType(site, path, sizeWant, n, "sizes are whole numbers: use a smaller unit, e.g. 1536MiB for 1.5GiB")
		return 0, site, false
	default:
		d.wrongType(site, path, sizeWant, n, "")
		return 0, site, false
	}
	switch {
	case s < lo:
		d.errAt(site, path, "%d bytes is too small; the minimum is %s", int64(s), lo)
		return 0, site, false
	case s > hi:
		d.errAt(site, path, "%s is too large; the maximum is %s", s, hi)
		return 0, site, false
	}
	return s, site, true
}

// duration reads a positive duration in Go syntax.
func (d *decoder) duration(v ast.Node, path string) (time.Duration, bool) {
	const want = "a duration such as 5s, 250ms or 2m"
	n, site, ok := d.value(v, path)
	if !ok {
		return 0, false
	}
	switch n := n.(type) {
	case *ast.StringNode:
		t, err := time.ParseDuration(n.Value)
		if err != nil {
			d.errAt(site, path, "%s is not a duration; write a number with a unit (ns, us, ms, s, m, h), e.g. 5s, 250ms, 1m30s", quote(n.Value))
			return 0, false
		}
		if t <= 0 {
			d.errAt(site, path, "%s is not positive; give a duration above zero, e.g. 5s", n.Value)
			return 0, false
		}
		return t, true
	case *ast.IntegerNode, *ast.FloatNode:
		txt := nodeText(n)
		d.errAt(site, path, "%s has no unit; write e.g. %ss for seconds or %sms for milliseconds", txt, txt, txt)
		return 0, false
	}
	d.wrongType(site, path, want, n, "")
	return 0, false
}

// boolean reads true or false.
func (d *decoder) boolean(v ast.Node, path string) (bool, bool) {
	n, site, ok := d.value(v, path)
	if !ok {
		return false, false
	}
	if b, isBool := n.(*ast.BoolNode); isBool {
		return b.Value, true
	}
	d.wrongType(site, path, "true or false", n, "")
	return false, false
}
