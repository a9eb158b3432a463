package abi

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Topic host functions: a turn publishes to a topic, subscribes the actor
// to one, or unsubscribes it; all three are committed with the turn.
const (
	ImportPublish     = "publish"
	ImportSubscribe   = "subscribe"
	ImportUnsubscribe = "unsubscribe"
)

// Publish is the argument of publish. Keys: 1 topic, 2 payload (CBOR
// bytes, optional).
type Publish struct {
	Topic   string
	Payload []byte
}

// AppendTo appends the encoding of p to b.
func (p *Publish) AppendTo(b []byte) []byte {
	b = AppendText(AppendUint(AppendMapHeader(b, 1+count(p.Payload != nil)), 1), p.Topic)
	if p.Payload != nil {
		b = AppendBytes(AppendUint(b, 2), p.Payload)
	}
	return b
}

// Decode decodes q into p. Payload aliases q.
func (p *Publish) Decode(q []byte) error {
	*p = Publish{}
	return decodeMap(q, "publish", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			p.Topic, err = r.ReadText()
		case 2:
			p.Payload, err = r.ReadBytes()
		default:
			err = r.Skip()
		}
		return err
	})
}

// Subscription is the argument of subscribe and unsubscribe. Keys: 1
// topic, 2 method (the handler the topic's messages are delivered to;
// subscribe only).
type Subscription struct {
	Topic  string
	Method string
}

// AppendTo appends the encoding of s to b.
func (s *Subscription) AppendTo(b []byte) []byte {
	b = AppendText(AppendUint(AppendMapHeader(b, 1+count(s.Method != "")), 1), s.Topic)
	if s.Method != "" {
		b = AppendText(AppendUint(b, 2), s.Method)
	}
	return b
}

// Decode decodes p into s.
func (s *Subscription) Decode(p []byte) error {
	*s = Subscription{}
	return decodeMap(p, "subscription", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			s.Topic, err = r.ReadText()
		case 2:
			s.Method, err = r.ReadText()
		default:
			err = r.Skip()
		}
		return err
	})
}

// CheckTopic refuses a topic name that is empty, longer than MaxTopicLen,
// not UTF-8, or holds a control character, a space, '*' or '>' (the
// wildcards of a pattern) or an empty segment (dots separate segments).
func CheckTopic(where, topic string) *Error {
	bad := func(msg string) *Error { return NewError(CodeBadRequest, where+": "+msg) }
	switch {
	case topic == "":
		return bad("no topic")
	case len(topic) > MaxTopicLen:
		return bad("topic is longer than " + strconv.Itoa(MaxTopicLen) + " bytes")
	case !utf8.ValidString(topic):
		return bad("topic is not valid UTF-8")
	}
	for _, seg := range strings.Split(topic, ".") {
		if seg == "" {
			return bad("topic " + strconv.Quote(topic) + " has an empty segment")
		}
	}
	for _, c := range topic {
		if c <= ' ' || c == 0x7f || c == '*' || c == '>' {
			return bad("topic " + strconv.Quote(topic) + " holds " + strconv.QuoteRune(c) +
				"; use letters, digits and punctuation other than * and >, segments separated by dots")
		}
	}
	return nil
}

// CheckTopicPattern checks a pattern of an implicit subscription: a topic
// in which a segment may be "*" (any one segment); the last may be ">"
// (one or more segments).
func CheckTopicPattern(pattern string) *Error {
	if pattern == "" || len(pattern) > MaxTopicLen {
		return NewError(CodeBadRequest, "topic pattern must be 1 to "+strconv.Itoa(MaxTopicLen)+" bytes")
	}
	segs := strings.Split(pattern, ".")
	for i, seg := range segs {
		if seg == "*" || (seg == ">" && i == len(segs)-1) {
			continue
		}
		if e := CheckTopic("topic pattern "+strconv.Quote(pattern), seg); e != nil {
			return e
		}
	}
	return nil
}

// MatchTopic reports whether topic matches pattern (see
// CheckTopicPattern), and the segments the wildcards matched, in order
// ("a.b" for a ">").
func MatchTopic(pattern, topic string) ([]string, bool) {
	ps, ts := strings.Split(pattern, "."), strings.Split(topic, ".")
	var wild []string
	for i, p := range ps {
		if p == ">" && i == len(ps)-1 {
			if i >= len(ts) {
				return nil, false
			}
			return append(wild, strings.Join(ts[i:], ".")), true
		}
		if i >= len(ts) {
			return nil, false
		}
		switch p {
		case "*":
			wild = append(wild, ts[i])
		case ts[i]:
		default:
			return nil, false
		}
	}
	return wild, len(ps) == len(ts)
}

// CheckSubscriptions refuses one more subscription of an actor that has
// subs already (counting its turn's own).
func CheckSubscriptions(subs int) *Error {
	if subs >= MaxSubscriptions {
		return NewError(CodeTooLarge, "an actor may subscribe to at most "+strconv.Itoa(MaxSubscriptions)+" topics")
	}
	return nil
}
