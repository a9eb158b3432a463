package wactortest

import (
	"slices"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
)

// topicCall answers publish, subscribe and unsubscribe with the host's
// rules (topic names, message size, how many tells a turn may send, how
// many topics an actor may subscribe to).
func (h *Host) topicCall(t *turn, fn hostlink.Func, arg []byte) (abi.Status, []byte) {
	if fn == hostlink.Publish {
		var p abi.Publish
		if err := p.Decode(arg); err != nil {
			return fail(abi.CodeBadReply, "wactortest: publish: "+err.Error())
		}
		if e := abi.CheckTopic(abi.ImportPublish, p.Topic); e != nil {
			return failErr(e)
		}
		if int64(len(p.Payload)) > h.max {
			return fail(abi.CodeTooLarge, "publish: message to "+p.Topic+" is over the limit")
		}
		if e := abi.CheckSends(len(t.tells) + len(t.published)); e != nil {
			return failErr(e)
		}
		p.Payload = clone(p.Payload)
		t.published = append(t.published, p)
		return abi.StatusOK, nil
	}
	var s abi.Subscription
	if err := s.Decode(arg); err != nil {
		return fail(abi.CodeBadReply, "wactortest: "+fn.String()+": "+err.Error())
	}
	if e := abi.CheckTopic(fn.String(), s.Topic); e != nil {
		return failErr(e)
	}
	if fn == hostlink.Unsubscribe {
		t.subs[s.Topic] = ""
		return abi.StatusOK, nil
	}
	if e := abi.CheckMethod("subscribe to "+s.Topic, s.Method); e != nil {
		return failErr(e)
	}
	if _, had := h.subs[s.Topic]; !had && t.subs[s.Topic] == "" {
		n := 0
		for topic := range h.subs {
			if m, ok := t.subs[topic]; !ok || m != "" {
				n++
			}
		}
		for topic, m := range t.subs {
			if _, had := h.subs[topic]; m != "" && !had {
				n++
			}
		}
		if e := abi.CheckSubscriptions(n); e != nil {
			return failErr(e)
		}
	}
	t.subs[s.Topic] = s.Method
	return abi.StatusOK, nil
}

func (h *Host) commitTopics(t *turn) {
	h.published = append(h.published, t.published...)
	for topic, m := range t.subs {
		if m == "" {
			delete(h.subs, topic)
		} else {
			h.subs[topic] = m
		}
	}
}

// Published returns what committed turns published, in order.
func (h *Host) Published() []abi.Publish { return h.published }

// Subscriptions returns the topics the actor is subscribed to, sorted,
// and the method of each.
func (h *Host) Subscriptions() ([]string, map[string]string) {
	topics := make([]string, 0, len(h.subs))
	for topic := range h.subs {
		topics = append(topics, topic)
	}
	slices.Sort(topics)
	return topics, h.subs
}
