package manifest

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
)

// Bounds of the concurrency options of an actor type.
const (
	// MaxLocalLimit is the largest value of stateless_worker.max_local.
	MaxLocalLimit = 1024
	// MaxReadOnly is the most methods read_only lists.
	MaxReadOnly = 256
	// MaxMethodLen is the longest method name, in bytes, as the ABI
	// bounds it.
	MaxMethodLen = 256
)

// StatelessWorker makes an actor type a stateless worker: several
// instances serve one actor id at once, up to MaxLocal on each node. A
// message goes to an idle instance, or starts a new one when all are
// busy; idle instances are collected after idle_timeout, each on its
// own. The instances keep no state: state writes and reminders are
// refused with bad_request.
type StatelessWorker struct {
	// MaxLocal is the most instances of one actor on one node, from 1 to
	// [MaxLocalLimit].
	MaxLocal int `yaml:"max_local"`
}

var statelessSection = newSection[StatelessWorker]("under stateless_worker", map[string]string{
	"max_local": "add max_local: <the most instances of one actor on this node>, e.g. max_local: 8",
})

// statelessWorker reads the stateless_worker mapping; the zero value when
// it is wrong (the error is recorded).
func (d *decoder) statelessWorker(v ast.Node, path string) StatelessWorker {
	mm, site, ok := d.mapping(v, path, "a mapping with max_local")
	if !ok {
		return StatelessWorker{}
	}
	if mm == nil {
		d.errAt(site, path, "empty stateless_worker; add max_local: <the most instances of one actor on this node>")
		return StatelessWorker{}
	}
	sw := StatelessWorker{}
	valid := true
	present := d.fields(mm, site, path, statelessSection, func(key string, v ast.Node, p string) {
		if key == "max_local" {
			if n, ok := d.bounded(v, p, "max_local", "instances", 1, MaxLocalLimit); ok {
				sw.MaxLocal = n
			} else {
				valid = false
			}
		}
	})
	if _, ok := present["max_local"]; !ok || !valid {
		return StatelessWorker{}
	}
	return sw
}

// readOnly reads the read_only list of method names.
func (d *decoder) readOnly(v ast.Node, p string) []string {
	n, site, ok := d.value(v, p)
	if !ok {
		return nil
	}
	seq, isSeq := n.(*ast.SequenceNode)
	if !isSeq {
		d.wrongType(site, p, "a list of method names, e.g. [get, balance]", n, "")
		return nil
	}
	if len(seq.Values) > MaxReadOnly {
		d.errAt(site, p, "%d methods, over the limit of %d", len(seq.Values), MaxReadOnly)
		return nil
	}
	var out []string
	seen := map[string]ast.Node{}
	for i, item := range seq.Values {
		ip := fmt.Sprintf("%s[%d]", p, i)
		s, isite, ok := d.str(item, ip, "a method name")
		if !ok {
			continue
		}
		if s == "" || len(s) > MaxMethodLen {
			d.errAt(isite, ip, "a method name is 1 to %d bytes, got %d", MaxMethodLen, len(s))
			continue
		}
		if first, dup := seen[s]; dup {
			line, _ := position(first)
			d.errAt(isite, ip, "method %q is listed twice, first at line %d", s, line)
			continue
		}
		seen[s] = isite
		out = append(out, s)
	}
	return out
}

// Reentrancy is the kind of reentrancy of an actor type.
type Reentrancy string

// ReentrantCallChain, the one kind of reentrancy: while a turn of the
// actor waits in an ask, an ask made on that turn's call chain that comes
// back to the actor (it asked B and B asks it, directly or further down
// the chain, or it asks itself) runs nested in the waiting turn, as part
// of its transaction, instead of failing with deadlock. Other messages
// wait for the turn as usual. The module must declare that it can be
// re-entered (docs/ABI.md, "Reentrancy"); a stateless worker cannot be
// reentrant.
const ReentrantCallChain Reentrancy = "call_chain"

// reentrant reads the reentrant setting.
func (d *decoder) reentrant(v ast.Node, p string) Reentrancy {
	s, site, ok := d.str(v, p, "call_chain")
	if !ok {
		return ""
	}
	if Reentrancy(s) != ReentrantCallChain {
		d.errAt(site, p, "reentrant must be call_chain (the only kind of reentrancy), got %s; leave it out for a type that is not reentrant", quote(s))
		return ""
	}
	return ReentrantCallChain
}
