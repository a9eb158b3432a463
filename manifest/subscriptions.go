package manifest

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Subscription is an implicit subscription of an actor type: every actor
// of the type gets the messages published to the topics that match Topic,
// without subscribing; the actor's id comes from the topic or the message.
type Subscription struct {
	// Topic is a topic pattern: dot-separated segments, where "*" stands
	// for any one segment and a last ">" for one or more.
	Topic string `yaml:"topic"`
	// Method is the handler the messages are delivered to.
	Method string `yaml:"method"`
	// ID says which part of the message names the actor: "topic" (the
	// default) for the segment the first wildcard matched, or
	// "payload.<key>" for the text under <key> in the message, a map.
	ID string `yaml:"id"`
}

// MaxSubscriptions bounds the implicit subscriptions of one type.
const MaxSubscriptions = 16

var subscriptionSection = newSection[Subscription]("in a subscriptions entry", map[string]string{
	"topic":  "add topic: <pattern, e.g. rooms.*>",
	"method": "add method: <the handler the messages go to>",
})

// subscriptions reads the subscriptions list of an actor. The host checks
// the patterns' syntax again when it deploys the type.
func (d *decoder) subscriptions(v ast.Node, p string) []Subscription {
	n, site, ok := d.value(v, p)
	if !ok {
		return nil
	}
	if _, null := n.(*ast.NullNode); null || isNil(n) {
		return nil
	}
	seq, isSeq := n.(*ast.SequenceNode)
	if !isSeq {
		d.wrongType(site, p, "a list of subscriptions, e.g. [{topic: rooms.*, method: post}]", n, "")
		return nil
	}
	if len(seq.Values) > MaxSubscriptions {
		d.errAt(site, p, "%d subscriptions; a type may have at most %d", len(seq.Values), MaxSubscriptions)
		return nil
	}
	var out []Subscription
	for i, item := range seq.Values {
		ip := fmt.Sprintf("%s[%d]", p, i)
		mm, site, ok := d.mapping(item, ip, "a mapping giving topic, method and id")
		if !ok || mm == nil {
			if ok {
				d.errAt(site, ip, "empty entry; give topic and method")
			}
			continue
		}
		var s Subscription
		valid := true
		d.fields(mm, site, ip, subscriptionSection, func(key string, v ast.Node, fp string) {
			str, site, ok := d.str(v, fp, "a text")
			if !ok {
				valid = false
				return
			}
			switch key {
			case "topic":
				if msg := checkPattern(str); msg != "" {
					d.errAt(site, fp, "%s", msg)
					valid = false
				}
				s.Topic = str
			case "method":
				if str == "" || len(str) > 256 || strings.HasPrefix(str, "wactor:") {
					d.errAt(site, fp, "method must be 1 to 256 bytes and not start with wactor: (the host's own)")
					valid = false
				}
				s.Method = str
			case "id":
				if str != "topic" && (!strings.HasPrefix(str, "payload.") || str == "payload.") {
					d.errAt(site, fp, "id must be topic (the segment the wildcard matched) or payload.<key> (a text of the message), got %s", quote(str))
					valid = false
				}
				s.ID = str
			}
		})
		if valid && (s.ID == "" || s.ID == "topic") && !strings.Contains("."+s.Topic+".", ".*.") && !strings.HasSuffix("."+s.Topic, ".>") {
			d.errAt(site, ip, "the id comes from the topic, but %s has no wildcard; add one (rooms.*) or take the id from the message (id: payload.room)", quote(s.Topic))
			valid = false
		}
		if valid {
			out = append(out, s)
		}
	}
	return out
}

// checkPattern says what is wrong with a topic pattern, or "".
func checkPattern(p string) string {
	if p == "" || len(p) > 256 {
		return "topic pattern must be 1 to 256 bytes"
	}
	segs := strings.Split(p, ".")
	for i, s := range segs {
		switch {
		case s == "*", s == ">" && i == len(segs)-1:
		case s == "":
			return "topic pattern " + quote(p) + " has an empty segment"
		case strings.ContainsAny(s, "*> \t\r\n"):
			return "topic pattern " + quote(p) + ": a segment is a name, * (any one segment) or, last, > (the rest)"
		}
	}
	return ""
}
