package host

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
)

// Topics. A publication is an outbox message to the pseudo-target
// topicPrefix+topic, committed with the turn (or the client's request)
// that publishes it. The host's fan-out hands each publication, in the
// order they were committed, to the subscribers of its topic: the actors
// subscribed with subscribe (links in the set "topic/<topic>", their
// method as the value) and those the types' implicit subscriptions name.
// It commits the copies a page of subscribers at a time. Each page's
// commit consumes the outbox entry that carries the fan-out, with
// ConsumeOnce, and, unless it is the last page, adds the entry that
// carries the rest: a continuation (method methodContinue, id
// continuationID) holding the last subscriber told and the payload. So a
// crash resumes after the last page committed, and when two fan-outs of
// one publication race (two nodes, after the node that began it died),
// each page commits once: the loser's commit finds its entry consumed and
// applies nothing. Each subscriber gets each publication once. One
// fan-out runs at a time, so the publications of one publisher reach each
// subscriber in the order they were published.

// topicPrefix starts the target of a publication in the outbox; it is no
// actor's ref (':' is not allowed in a type).
const topicPrefix = abi.ReservedMethodPrefix + "topic/"

// methodPublish is the method of a publication in the outbox.
const methodPublish = abi.ReservedMethodPrefix + "publish"

// methodContinue is the method of a continuation in the outbox: the rest
// of a publication's fan-out (see encodeContinuation).
const methodContinue = abi.ReservedMethodPrefix + "publish-rest"

// fanoutPage is how many subscribers one commit of a fan-out tells.
const fanoutPage = 256

// MaxPendingPublications bounds the publications waiting to be fanned
// out that clients may add to: past it Publish answers mailbox_full, as a
// full mailbox does to a tell. (Those of turns wait in the outbox too.)
const MaxPendingPublications = 10_000

// MaxImplicitSubscriptions bounds the implicit subscriptions of one type.
const MaxImplicitSubscriptions = 16

// Bounds on the clients that follow topics live (Follow).
const (
	MaxFollowers     = 256 // followers of all topics at once
	FollowBuffer     = 64  // events waiting for one follower; past it, it is dropped
	MaxFollowerTopic = 64  // followers of one topic
)

func subscribersSet(topic string) string   { return "topic/" + topic }
func subscriptionsSet(actor string) string { return "subscriptions/" + actor }

// cursorSet is where a fan-out of an earlier version kept how far it got;
// a publication left with one resumes there.
func cursorSet(id string) string            { return "fanout/" + id }
func isPublication(m *storage.Message) bool { return strings.HasPrefix(m.Target, topicPrefix) }

// ImplicitSubscription subscribes every actor of a type to the topics
// that match a pattern, without a subscribe call: the id of the actor a
// message goes to is taken from the topic or from the message.
type ImplicitSubscription struct {
	// Topic is a pattern (abi.CheckTopicPattern): "rooms.*".
	Topic string
	// Method is the handler the messages are delivered to.
	Method string
	// ID says where the actor's id comes from: "" or "topic" for the
	// segment the pattern's first wildcard matched, "payload.<key>" for
	// the text under <key> in the message, a map.
	ID string
}

// checkImplicit checks a type's implicit subscriptions.
func checkImplicit(subs []ImplicitSubscription) error {
	if len(subs) > MaxImplicitSubscriptions {
		return errors.New("at most " + itoa(MaxImplicitSubscriptions) + " implicit subscriptions")
	}
	for _, s := range subs {
		if e := abi.CheckTopicPattern(s.Topic); e != nil {
			return e
		}
		if e := abi.CheckMethod("implicit subscription to "+s.Topic, s.Method); e != nil {
			return e
		}
		switch {
		case s.ID == "" || s.ID == "topic":
			if !strings.Contains("."+s.Topic+".", ".*.") && !strings.HasSuffix("."+s.Topic, ".>") {
				return errors.New("implicit subscription to " + s.Topic + ": the id comes from the topic, which has no wildcard")
			}
		case strings.HasPrefix(s.ID, "payload.") && len(s.ID) > len("payload."):
		default:
			return errors.New("implicit subscription to " + s.Topic + ": id must be \"topic\" or \"payload.<key>\", not " + s.ID)
		}
	}
	return nil
}

// implicitID returns the id a message on topic goes to under s, or false.
func implicitID(s ImplicitSubscription, topic string, payload []byte) (string, bool) {
	wild, ok := abi.MatchTopic(s.Topic, topic)
	if !ok {
		return "", false
	}
	if s.ID == "" || s.ID == "topic" {
		if len(wild) == 0 {
			return "", false
		}
		return wild[0], true
	}
	return payloadText(payload, strings.TrimPrefix(s.ID, "payload."))
}

// payloadText reads the text under key of a CBOR map with text keys.
func payloadText(p []byte, key string) (string, bool) {
	r := abi.NewReader(p)
	n, err := r.ReadMapHeader()
	if err != nil {
		return "", false
	}
	for range n {
		k, err := r.ReadText()
		if err != nil {
			return "", false
		}
		if k == key {
			v, err := r.ReadText()
			return v, err == nil
		}
		if r.Skip() != nil {
			return "", false
		}
	}
	return "", false
}

// publication is a publish a turn buffered.
type publication struct {
	topic   string
	payload []byte
}

// publish buffers a publication; it is committed with the turn.
func (t *turn) publish(arg []byte) (abi.Status, []byte) {
	var p abi.Publish
	decoded(abi.ImportPublish, p.Decode(arg))
	e := abi.CheckTopic(abi.ImportPublish, p.Topic)
	if e == nil && int64(len(p.Payload)) > t.cfg.MaxMessage {
		e = abi.NewError(abi.CodeTooLarge, "publish: message to "+p.Topic+" is over the limit of "+itoa(int(t.cfg.MaxMessage))+" bytes")
	}
	if e == nil {
		e = abi.CheckSends(len(t.sends) + len(t.publications))
	}
	if e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	t.publications = append(t.publications, publication{topic: p.Topic, payload: bytes.Clone(p.Payload)})
	return abi.StatusOK, nil
}

// subscribe buffers a subscription of the actor to a topic.
func (t *turn) subscribe(arg []byte) (abi.Status, []byte) {
	var s abi.Subscription
	decoded(abi.ImportSubscribe, s.Decode(arg))
	e := abi.CheckTopic(abi.ImportSubscribe, s.Topic)
	if e == nil {
		e = abi.CheckMethod("subscribe to "+s.Topic, s.Method)
	}
	if e == nil {
		e = t.roomToSubscribe(s.Topic)
	}
	if e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	t.subOp(s.Topic, s.Method)
	return abi.StatusOK, nil
}

// unsubscribe buffers the end of a subscription.
func (t *turn) unsubscribe(arg []byte) (abi.Status, []byte) {
	var s abi.Subscription
	decoded(abi.ImportUnsubscribe, s.Decode(arg))
	e := abi.CheckTopic(abi.ImportUnsubscribe, s.Topic)
	if _, ok := t.subs[s.Topic]; e == nil && !ok {
		e = abi.CheckSubscriptions(len(t.subs))
	}
	if e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	t.subOp(s.Topic, "")
	return abi.StatusOK, nil
}

func (t *turn) subOp(topic, method string) {
	if t.subs == nil {
		t.subs = make(map[string]string)
	}
	t.subs[topic] = method
}

// roomToSubscribe refuses a new subscription past abi.MaxSubscriptions,
// counting the turn's own, once the turns before are durable.
func (t *turn) roomToSubscribe(topic string) *abi.Error {
	if m, ok := t.subs[topic]; ok && m != "" {
		return nil
	}
	if !t.settle() {
		return asABIError(t.doomed)
	}
	self := t.a.ref.String()
	subs, err := t.a.h.store.Links(t.ctx, subscriptionsSet(self), "", abi.MaxSubscriptions+1)
	if err != nil {
		return abi.NewError(abi.CodeUnavailable, "subscribe: reading the subscriptions of "+self+": "+err.Error())
	}
	n := 0
	for _, l := range subs {
		if l.Member == topic {
			return nil // a change of method
		}
		if m, ok := t.subs[l.Member]; !ok || m != "" {
			n++
		}
	}
	for s, m := range t.subs {
		if m != "" && !containsMember(subs, s) {
			n++
		}
	}
	return abi.CheckSubscriptions(n)
}

// topicChanges adds the turn's publications and subscription changes to b.
func (a *activation) topicChanges(t *turn, b *storage.Batch) {
	if len(t.publications) == 0 && len(t.subs) == 0 {
		return
	}
	self := a.ref.String()
	for _, p := range t.publications {
		b.Send = append(b.Send, storage.Message{ID: a.h.ids.next(), Target: topicPrefix + p.topic, Sender: self,
			Method: methodPublish, Payload: p.payload})
	}
	for topic, method := range t.subs {
		pair := []storage.Link{{Set: subscribersSet(topic), Member: self, Value: []byte(method)},
			{Set: subscriptionsSet(self), Member: topic, Value: []byte(method)}}
		if method != "" {
			b.Links = append(b.Links, pair...)
		} else {
			b.Unlinks = append(b.Unlinks, pair...)
		}
	}
}

// Publish publishes payload (one CBOR item, or nothing) to topic from
// outside. When it returns nil the publication is committed: every
// subscriber gets it, even if the process dies now. With an
// IdempotencyKey, a publication to the same topic with the same key
// within the record retention is published once: the repeats return nil
// and publish nothing.
func (h *Host) Publish(ctx context.Context, topic string, payload []byte, opts ...CallOption) error {
	if h.closing() {
		return abi.NewError(abi.CodeUnavailable, "host is shutting down")
	}
	if e := abi.CheckTopic("publish", topic); e != nil {
		return e
	}
	if len(payload) > DefaultMaxMessage {
		return abi.NewError(abi.CodeTooLarge, "message to topic "+topic+" is over the limit of "+itoa(DefaultMaxMessage)+" bytes")
	}
	if len(payload) > 0 {
		if err := abi.WellFormed(payload); err != nil {
			return abi.NewError(abi.CodeBadRequest, "payload is not one well-formed CBOR item: "+err.Error())
		}
	}
	if h.topics.pending() >= MaxPendingPublications {
		return abi.NewError(abi.CodeMailboxFull, "publishing to "+topic+": "+itoa(MaxPendingPublications)+
			" publications wait to be fanned out; try again later")
	}
	m := storage.Message{ID: h.ids.next(), Target: topicPrefix + topic, Method: methodPublish, Payload: payload, Trace: h.tracer.contextTrace(ctx)}
	b := &storage.Batch{Send: []storage.Message{m}}
	if len(opts) > 0 {
		// The record check and the commit of one key do not interleave on
		// this host; a store shared between nodes checks the record
		// inside the commit too (storage.ErrRecorded).
		unlock := h.topics.lockKey(m.Target, opts)
		defer unlock()
		key, _, done, err := h.recordedIn(ctx, m.Target, opts)
		if err != nil || done {
			return err // done: published already
		}
		if key != "" {
			b.Records = []storage.Record{{Key: scopedKey(m.Target, key), Expires: time.Now().Add(h.retention)}}
		}
	}
	if err := h.store.Commit(ctx, b); err != nil {
		if errors.Is(err, storage.ErrRecorded) {
			return nil // another node published it first
		}
		return abi.NewError(abi.CodeUnavailable, "storing a publication to "+topic+": "+err.Error())
	}
	h.deliver([]storage.Message{m})
	return nil
}

// keyLocks is how many locks keyed publications are spread over.
const keyLocks = 64

// lockKey locks the stripe of the idempotency key in opts for scope, and
// returns its unlock.
func (f *fanout) lockKey(scope string, opts []CallOption) (unlock func()) {
	hash := fnv.New32a()
	hash.Write([]byte(scopedKey(scope, applyOptions(opts).key)))
	mu := &f.keyMu[hash.Sum32()%keyLocks]
	mu.Lock()
	return mu.Unlock
}

// fanout hands publications to subscribers, one at a time (see above).
type fanout struct {
	h      *Host
	keyMu  [keyLocks]sync.Mutex // see lockKey
	mu     sync.Mutex
	queue  []storage.Message
	wake   chan struct{}
	follow followers
}

func newFanout(h *Host) *fanout {
	return &fanout{h: h, wake: make(chan struct{}, 1), follow: followers{byTopic: make(map[string]map[*Follower]bool)}}
}

// queued reports whether publication id (or a continuation of it) waits
// to be fanned out here.
func (f *fanout) queued(id string) bool {
	base, _, _ := splitContinuation(id)
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.queue, func(m storage.Message) bool {
		b, _, _ := splitContinuation(m.ID)
		return b == base
	})
}

// pending counts the publications waiting to be fanned out.
func (f *fanout) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

// add queues publications, in order.
func (f *fanout) add(m storage.Message) {
	f.mu.Lock()
	f.queue = append(f.queue, m)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// loop fans publications out until the host stops; what is left stays in
// the outbox for the next run.
func (f *fanout) loop() {
	defer f.h.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.h.wg.Add(1)
	go func() { // ends a store call in flight when the host stops
		defer f.h.wg.Done()
		<-f.h.stop
		cancel()
	}()
	backoff := 10 * time.Millisecond
	for {
		f.mu.Lock()
		var m *storage.Message
		if len(f.queue) > 0 {
			m = &f.queue[0]
		}
		f.mu.Unlock()
		if m == nil {
			select {
			case <-f.h.stop:
				return
			case <-f.wake:
			}
			continue
		}
		err := f.fanOut(ctx, *m, func(next storage.Message) {
			// The head stays the head (only this loop pops it): a retry
			// resumes from the last page committed.
			f.mu.Lock()
			f.queue[0] = next
			f.mu.Unlock()
		})
		if errors.Is(err, storage.ErrConsumed) {
			f.h.log.Info("a publication was fanned out by another node", "id", m.ID)
			err = nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			f.h.log.Error("fanning a publication out; trying again", "id", m.ID, "topic", strings.TrimPrefix(m.Target, topicPrefix), "err", err)
			select {
			case <-f.h.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 10 * time.Millisecond
		f.mu.Lock()
		f.queue[0] = storage.Message{}
		f.queue = f.queue[1:]
		f.mu.Unlock()
	}
}

// fanOut commits the copies of publication m (or of the rest of one,
// when m is a continuation) to its subscribers, a page at a time. Each
// page's commit consumes the entry that carries the fan-out and adds the
// continuation of the next page, if any, which it passes to resumed
// (when not nil). It fails with storage.ErrConsumed when another fan-out
// committed the page first.
func (f *fanout) fanOut(ctx context.Context, m storage.Message, resumed func(storage.Message)) error {
	h := f.h
	topic := strings.TrimPrefix(m.Target, topicPrefix)
	base, page, ok := splitContinuation(m.ID)
	if !ok {
		base, page = m.ID, 0
	}
	payload, after, started := m.Payload, "", false
	var legacy []storage.Link
	if m.Method == methodContinue {
		var err error
		if after, payload, err = decodeContinuation(m.Payload); err != nil {
			// Nothing can resume it: drop it, saying so.
			h.log.Error("dropping a corrupt fan-out continuation", "id", m.ID, "topic", topic, "err", err)
			return h.store.Commit(ctx, &storage.Batch{Consumed: []string{m.ID}, ConsumeOnce: true})
		}
		started = true
	} else {
		cur, err := h.store.Links(ctx, cursorSet(m.ID), "", 1)
		if err != nil {
			return err
		}
		if len(cur) > 0 {
			after, started, legacy = string(cur[0].Value), true, cur
		}
	}
	for carrier := m.ID; ; {
		subs, err := h.store.Links(ctx, subscribersSet(topic), after, fanoutPage)
		if err != nil {
			return err
		}
		// ConsumeOnce makes the page conditional on the carrier being
		// still there, checked inside the commit: of two fan-outs of one
		// page, one commits.
		b := &storage.Batch{Consumed: []string{carrier}, ConsumeOnce: true, Unlinks: legacy}
		if !started {
			f.follow.publish(h, Event{ID: m.ID, Topic: topic, Sender: m.Sender, Payload: payload})
			b.Send = h.implicitCopies(topic, m)
		}
		for _, l := range subs {
			b.Send = append(b.Send, storage.Message{ID: h.ids.next(), Target: l.Member, Sender: m.Sender,
				Method: string(l.Value), Payload: payload, Trace: m.Trace})
		}
		copies := len(b.Send)
		var next storage.Message
		last := len(subs) < fanoutPage
		if !last {
			after = subs[len(subs)-1].Member
			page++
			next = storage.Message{ID: continuationID(base, page), Target: m.Target, Sender: m.Sender,
				Method: methodContinue, Payload: encodeContinuation(after, payload), Trace: m.Trace}
			b.Send = append(b.Send, next)
		}
		if err := h.store.Commit(ctx, b); err != nil {
			return err
		}
		h.sent("", KindTell, copies)
		h.deliver(b.Send[:copies])
		if last {
			return nil
		}
		if resumed != nil {
			resumed(next)
		}
		carrier, started, legacy = next.ID, true, nil
	}
}

// encodeContinuation encodes the payload of a continuation: a CBOR array
// of the last subscriber told (text) and the publication's payload
// (bytes).
func encodeContinuation(after string, payload []byte) []byte {
	b := abi.AppendArrayHeader(make([]byte, 0, len(after)+len(payload)+16), 2)
	b = abi.AppendText(b, after)
	return abi.AppendBytes(b, payload)
}

// decodeContinuation decodes what encodeContinuation encoded.
func decodeContinuation(p []byte) (after string, payload []byte, err error) {
	r := abi.NewReader(p)
	n, err := r.ReadArrayHeader()
	if err == nil && n != 2 {
		err = errors.New("a continuation is an array of 2, not " + itoa(n))
	}
	if err == nil {
		after, err = r.ReadText()
	}
	if err == nil {
		payload, err = r.ReadBytes()
	}
	if err == nil && r.Len() != 0 {
		err = errors.New("bytes after a continuation")
	}
	if len(payload) == 0 {
		return after, nil, err // no payload, as the publication had
	}
	return after, bytes.Clone(payload), err
}

// implicitCopies returns a copy of m for each implicit subscription of
// every type that matches topic.
func (h *Host) implicitCopies(topic string, m storage.Message) []storage.Message {
	h.typesMu.RLock()
	defer h.typesMu.RUnlock()
	var out []storage.Message
	for name, t := range h.types {
		for _, s := range t.current().cfg.Subscriptions {
			id, ok := implicitID(s, topic, m.Payload)
			if !ok {
				continue
			}
			ref := abi.Ref{Type: name, ID: id}
			if err := ref.Validate(); err != nil {
				h.log.Warn("implicit subscription names no actor", "type", name, "topic", topic, "id", id, "err", err)
				continue
			}
			out = append(out, storage.Message{ID: h.ids.next(), Target: ref.String(), Sender: m.Sender,
				Method: s.Method, Payload: m.Payload, Trace: m.Trace})
		}
	}
	return out
}

// Event is a publication as a follower sees it.
type Event struct {
	ID      string // the publication's id
	Topic   string
	Sender  string // the publishing actor, "" from outside
	Payload []byte
}

// TopicRelay is a capability a Remote may have (discovered by type
// assertion): it carries each publication, as its fan-out starts on one
// node, to the clients that follow its topic on the other nodes, best
// effort, so that a follower sees the publications of its topic whichever
// node fans them out.
type TopicRelay interface {
	// Relay sends ev to the other nodes whose clients follow ev.Topic;
	// it does not wait for them.
	Relay(ev Event) error
	// Listen calls deliver with each publication of topic that another
	// node relays, until stop is called. deliver must not block.
	Listen(topic string, deliver func(Event)) (stop func(), err error)
}

// topicRelay returns the host's Remote as a TopicRelay, or nil.
func (h *Host) topicRelay() TopicRelay {
	tr, _ := h.remote.(TopicRelay)
	return tr
}

// Follower receives the publications of one topic as they are fanned
// out (in a cluster, by any node: see TopicRelay), best effort: a
// follower that does not keep up (FollowBuffer events waiting) is
// dropped, its channel closed.
type Follower struct {
	// Events delivers the publications; it is closed when the follower
	// is dropped or stopped.
	Events <-chan Event
	events chan Event
	topic  string
	f      *fanout
	closed bool // under f.follow.mu
}

// Stop ends the follower and closes its channel.
func (fl *Follower) Stop() { fl.f.follow.remove(fl) }

type followers struct {
	mu      sync.Mutex
	n       int
	byTopic map[string]map[*Follower]bool
	// listening holds, per topic with followers, the stop of its relay
	// from the other nodes (in a cluster with a TopicRelay).
	listening map[string]func()
}

// Follow starts following topic live. It refuses more than MaxFollowers
// followers, or MaxFollowerTopic of one topic, with unavailable.
func (h *Host) Follow(topic string) (*Follower, error) {
	if e := abi.CheckTopic("follow", topic); e != nil {
		return nil, e
	}
	if h.closing() {
		return nil, abi.NewError(abi.CodeUnavailable, "host is shutting down")
	}
	fs := &h.topics.follow
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.n >= MaxFollowers || len(fs.byTopic[topic]) >= MaxFollowerTopic {
		return nil, abi.NewError(abi.CodeUnavailable, "too many clients follow topics; at most "+itoa(MaxFollowers)+
			" in all and "+itoa(MaxFollowerTopic)+" per topic")
	}
	ch := make(chan Event, FollowBuffer)
	fl := &Follower{Events: ch, events: ch, topic: topic, f: h.topics}
	if fs.byTopic[topic] == nil {
		fs.byTopic[topic] = make(map[*Follower]bool)
	}
	fs.byTopic[topic][fl] = true
	fs.n++
	if tr := h.topicRelay(); tr != nil && fs.listening[topic] == nil {
		stop, err := tr.Listen(topic, func(ev Event) { fs.publish(nil, ev) })
		if err != nil {
			h.log.Warn("following a topic on the other nodes; this node's publications only", "topic", topic, "err", err)
			stop = func() {}
		}
		if fs.listening == nil {
			fs.listening = make(map[string]func())
		}
		fs.listening[topic] = stop
	}
	return fl, nil
}

// remove drops fl and closes its channel, once.
func (fs *followers) remove(fl *Follower) {
	fs.mu.Lock()
	stop := fs.removeLocked(fl)
	fs.mu.Unlock()
	stop()
}

// removeLocked drops fl and returns what the caller calls once it has
// unlocked fs.mu: the stop of the topic's relay when fl was its last
// follower, or nothing.
func (fs *followers) removeLocked(fl *Follower) (stop func()) {
	stop = func() {}
	if fl.closed {
		return stop
	}
	fl.closed = true
	delete(fs.byTopic[fl.topic], fl)
	if len(fs.byTopic[fl.topic]) == 0 {
		delete(fs.byTopic, fl.topic)
		if s := fs.listening[fl.topic]; s != nil {
			delete(fs.listening, fl.topic)
			stop = s
		}
	}
	fs.n--
	close(fl.events)
	return stop
}

// publish hands ev to the followers of its topic without waiting and,
// when h is not nil (ev was fanned out here), relays it to the other
// nodes' followers.
func (fs *followers) publish(h *Host, ev Event) {
	if h != nil {
		if tr := h.topicRelay(); tr != nil {
			if err := tr.Relay(ev); err != nil {
				h.log.Debug("relaying a publication to the followers on other nodes", "id", ev.ID, "topic", ev.Topic, "err", err)
			}
		}
	}
	fs.mu.Lock()
	var stops []func()
	for fl := range fs.byTopic[ev.Topic] {
		select {
		case fl.events <- ev:
		default:
			stops = append(stops, fs.removeLocked(fl)) // too slow: dropped
		}
	}
	fs.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

// closeAll drops every follower, when the host closes.
func (fs *followers) closeAll() {
	fs.mu.Lock()
	var stops []func()
	for _, set := range fs.byTopic {
		for fl := range set {
			stops = append(stops, fs.removeLocked(fl))
		}
	}
	fs.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}
