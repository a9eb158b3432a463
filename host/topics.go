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
// It commits the copies a page of subscribers at a time, each page with a
// cursor (a link in "fanout/<id>") that says how far it got, and the last
// with the consumption of the publication: a crash resumes after the last
// page committed, so each subscriber gets each publication once. One
// fan-out runs at a time, so the publications of one publisher reach each
// subscriber in the order they were published.

// topicPrefix starts the target of a publication in the outbox; it is no
// actor's ref (':' is not allowed in a type).
const topicPrefix = abi.ReservedMethodPrefix + "topic/"

// methodPublish is the method of a publication in the outbox.
const methodPublish = abi.ReservedMethodPrefix + "publish"

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

func subscribersSet(topic string) string    { return "topic/" + topic }
func subscriptionsSet(actor string) string  { return "subscriptions/" + actor }
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
	t.decode(abi.ImportPublish, &p, arg)
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
	t.decode(abi.ImportSubscribe, &s, arg)
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
	t.decode(abi.ImportUnsubscribe, &s, arg)
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

// queued reports whether publication id waits to be fanned out here.
func (f *fanout) queued(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.queue, func(m storage.Message) bool { return m.ID == id })
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
		err := f.fanOut(ctx, *m)
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

// fanOut commits the copies of publication m to its subscribers, a page
// at a time from where an earlier run left off, and consumes m with the
// last page.
func (f *fanout) fanOut(ctx context.Context, m storage.Message) error {
	h := f.h
	topic := strings.TrimPrefix(m.Target, topicPrefix)
	cur, err := h.store.Links(ctx, cursorSet(m.ID), "", 1)
	if err != nil {
		return err
	}
	after, started := "", len(cur) > 0
	if started {
		after = string(cur[0].Value)
	}
	for round := 0; ; round++ {
		page, err := h.store.Links(ctx, subscribersSet(topic), after, fanoutPage)
		if err != nil {
			return err
		}
		b := &storage.Batch{}
		if !started && round == 0 {
			f.follow.publish(topic, m)
			b.Send = h.implicitCopies(topic, m)
		}
		for _, l := range page {
			b.Send = append(b.Send, storage.Message{ID: h.ids.next(), Target: l.Member, Sender: m.Sender,
				Method: string(l.Value), Payload: m.Payload, Trace: m.Trace})
		}
		last := len(page) < fanoutPage
		cursor := storage.Link{Set: cursorSet(m.ID), Member: "cursor"}
		if last {
			b.Consumed = []string{m.ID}
			// In a cluster another node may fan out a publication left
			// behind (see sweepOutbox): the last page commits only if m
			// is still there, so one of them delivers it.
			b.ConsumeOnce = h.remote != nil
			if started || round > 0 {
				b.Unlinks = []storage.Link{cursor}
			}
		} else {
			after = page[len(page)-1].Member
			cursor.Value = []byte(after)
			b.Links = []storage.Link{cursor}
		}
		if err := h.store.Commit(ctx, b); err != nil {
			return err
		}
		h.sent("", KindTell, len(b.Send))
		h.deliver(b.Send)
		if last {
			return nil
		}
	}
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

// Follower receives the publications of one topic as they are fanned
// out, best effort: a follower that does not keep up (FollowBuffer
// events waiting) is dropped, its channel closed.
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
	return fl, nil
}

// remove drops fl and closes its channel, once.
func (fs *followers) remove(fl *Follower) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.removeLocked(fl)
}

func (fs *followers) removeLocked(fl *Follower) {
	if fl.closed {
		return
	}
	fl.closed = true
	delete(fs.byTopic[fl.topic], fl)
	if len(fs.byTopic[fl.topic]) == 0 {
		delete(fs.byTopic, fl.topic)
	}
	fs.n--
	close(fl.events)
}

// publish hands m to the followers of topic without waiting.
func (fs *followers) publish(topic string, m storage.Message) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for fl := range fs.byTopic[topic] {
		select {
		case fl.events <- Event{ID: m.ID, Topic: topic, Sender: m.Sender, Payload: m.Payload}:
		default:
			fs.removeLocked(fl) // too slow: dropped
		}
	}
}

// closeAll drops every follower, when the host closes.
func (fs *followers) closeAll() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, set := range fs.byTopic {
		for fl := range set {
			fs.removeLocked(fl)
		}
	}
}
