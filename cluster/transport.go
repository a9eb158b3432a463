package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
)

// DefaultAskTimeout bounds an ask whose context has no deadline.
const DefaultAskTimeout = 5 * time.Second

// MaxInFlight bounds the asks from other nodes a node applies at once;
// more are refused with unavailable (the caller retries until its
// deadline).
const MaxInFlight = 4096

// MaxInFlightBytes bounds the bytes of the asks from other nodes a node
// applies at once (each may be up to MaxPayload); more are refused with
// unavailable, as past MaxInFlight.
const MaxInFlightBytes = 256 << 20

// Handler applies an ask that reached this node from another one: it
// returns the reply's payload, or an error (an *abi.Error is carried back
// as is, a *NotServedError as one, any other error as unavailable). ctx
// ends at the caller's deadline, or when the transport closes.
type Handler func(ctx context.Context, req *AskRequest) ([]byte, error)

// DeliverHandler takes messages that another node committed to the
// outbox and hands over to this one, because this node serves their
// targets: it queues them for their targets, in order, and returns the
// targets it does not serve, each with the node it names as the owner
// ("" for none); the sender keeps those messages and sends them again.
// An error means the sender should send them all again.
type DeliverHandler func(ctx context.Context, msgs []storage.Message) (refused map[string]string, err error)

// NotServedError is the answer of a node that did not apply an ask or a
// delivery because it does not serve the target now (another node holds
// it, or it is not running, is leaving or too busy): nothing of it was
// applied, so the caller may send it again, to Owner when that names a
// node. It unwraps to an *abi.Error with code unavailable.
type NotServedError struct {
	Owner string
	Err   *abi.Error
}

func (e *NotServedError) Error() string { return e.Err.Error() }

// Unwrap returns the *abi.Error.
func (e *NotServedError) Unwrap() error { return e.Err }

// notServed is a NotServedError naming no owner.
func notServed(msg string) *NotServedError {
	return &NotServedError{Err: abi.NewError(abi.CodeUnavailable, msg)}
}

// Transport carries asks, and deliveries of committed tells, between the
// nodes of a cluster.
type Transport interface {
	// Ask sends req to node and waits for its reply until ctx's deadline
	// (DefaultAskTimeout when ctx has none; the owner applies it for at
	// most MaxAskTime). It returns the reply's
	// payload, or an *abi.Error: the handler's own, timeout when the
	// deadline passed, too_large when the request exceeds what NATS
	// carries; or a *NotServedError when node did not apply it (it said
	// so, or it does not serve asks: it is not running, is leaving, or
	// is too busy).
	Ask(ctx context.Context, node string, req *AskRequest) ([]byte, error)
	// Deliver hands msgs (at most MaxDeliver) to node and waits for its
	// answer until ctx's deadline (DefaultAskTimeout when it has none):
	// the targets node refused, with the owners it names, or an error
	// (then node may or may not have taken them).
	Deliver(ctx context.Context, node string, msgs []storage.Message) (refused map[string]string, err error)
	// Serve makes this node answer asks with h and deliveries with d (nil:
	// refused, not served), until Close. It may be called once.
	Serve(h Handler, d DeliverHandler) error
}

// transport is the Transport on NATS: each node answers on its own
// subject, wactor.<cluster>.ask.<node>, with NATS request/reply.
type transport struct {
	nc      *nats.Conn
	cluster string
	node    string
	log     *slog.Logger

	mu     sync.Mutex
	sub    *nats.Subscription // asks
	dsub   *nats.Subscription // deliveries
	closed bool
	ctx    context.Context // ends when the transport closes
	cancel context.CancelFunc
	slots  chan struct{} // one per ask being applied
	wg     sync.WaitGroup
	// bytes is the size of the asks being applied, at most maxBytes
	// (MaxInFlightBytes; a test lowers it).
	bytes    atomic.Int64
	maxBytes int64
}

func newTransport(nc *nats.Conn, cluster, node string, log *slog.Logger) *transport {
	ctx, cancel := context.WithCancel(context.Background())
	return &transport{nc: nc, cluster: cluster, node: node, log: log, ctx: ctx, cancel: cancel, slots: make(chan struct{}, MaxInFlight),
		maxBytes: MaxInFlightBytes}
}

func askSubject(cluster, node string) string { return "wactor." + cluster + ".ask." + node }

func deliverSubject(cluster, node string) string { return "wactor." + cluster + ".deliver." + node }

// timeLeft is what is left of ctx's deadline, in milliseconds, at least
// 1 and at most MaxAskTime; ok is false when it passed.
func timeLeft(ctx context.Context) (ms uint64, ok bool) {
	deadline, _ := ctx.Deadline()
	left := time.Until(deadline)
	if left <= 0 {
		return 0, false
	}
	return uint64(min(max(left.Milliseconds(), 1), MaxAskTime.Milliseconds())), true
}

func (t *transport) Ask(ctx context.Context, node string, req *AskRequest) ([]byte, error) {
	return t.request(ctx, node, askSubject(t.cluster, node), "an ask to "+req.Target.String(),
		func(left uint64) []byte { return req.appendTo(nil, left) })
}

func (t *transport) Deliver(ctx context.Context, node string, msgs []storage.Message) (map[string]string, error) {
	if len(msgs) > MaxDeliver {
		return nil, abi.NewError(abi.CodeTooLarge, fmt.Sprintf("a delivery of %d messages, over %d", len(msgs), MaxDeliver))
	}
	payload, err := t.request(ctx, node, deliverSubject(t.cluster, node), fmt.Sprintf("a delivery of %d messages", len(msgs)),
		func(left uint64) []byte { return appendDelivery(nil, msgs, left) })
	if err != nil {
		return nil, err
	}
	refused, err := decodeRefused(payload)
	if err != nil {
		return nil, abi.NewError(abi.CodeUnavailable, fmt.Sprintf("node %s answered a delivery with a bad list of refused targets: %v", node, err))
	}
	return refused, nil
}

// request sends what encode makes, with the time left of ctx's deadline
// (DefaultAskTimeout when it has none), to subject of node, and decodes
// the answer: the payload, or the error it carries.
func (t *transport) request(ctx context.Context, node, subject, what string, encode func(left uint64) []byte) ([]byte, error) {
	if msg := CheckName(node); msg != "" {
		return nil, abi.NewError(abi.CodeBadRequest, "node "+msg)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultAskTimeout)
		defer cancel()
	}
	left, ok := timeLeft(ctx)
	if !ok {
		return nil, abi.NewError(abi.CodeTimeout, what+": the deadline passed before it was sent")
	}
	data := encode(left)
	if limit := t.nc.MaxPayload(); int64(len(data)) > limit {
		return nil, abi.NewError(abi.CodeTooLarge, fmt.Sprintf("%s on node %s is %d bytes, over the %d NATS carries between nodes", what, node, len(data), limit))
	}
	msg, err := t.nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		return nil, askError(ctx, err, node, what)
	}
	reply, err := decodeAnswer(msg.Data)
	var e *abi.Error
	if err != nil && !errors.As(err, &e) {
		return nil, abi.NewError(abi.CodeUnavailable, fmt.Sprintf("node %s answered %s with a bad reply: %v", node, what, err))
	}
	return reply, err
}

// askError translates a failed NATS request to the error vocabulary.
func askError(ctx context.Context, err error, node string, what string) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return notServed("node " + node + " does not serve asks (not running, or leaving); " + what)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return abi.NewError(abi.CodeTimeout, "no reply from node "+node+" to "+what+" before the deadline")
	case ctx.Err() != nil:
		return abi.NewError(abi.CodeUnavailable, what+" on node "+node+" canceled: "+ctx.Err().Error())
	}
	return abi.NewError(abi.CodeUnavailable, what+" on node "+node+": "+err.Error())
}

func (t *transport) Serve(h Handler, d DeliverHandler) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closed:
		return ErrClosed
	case t.sub != nil:
		return errors.New("cluster: the transport already serves asks")
	}
	sub, err := t.nc.Subscribe(askSubject(t.cluster, t.node), func(m *nats.Msg) {
		t.dispatch(m, func(ctx context.Context) []byte { return t.serveAsk(ctx, h, m.Data) })
	})
	if err != nil {
		return fmt.Errorf("cluster: serving asks: %w", err)
	}
	sub.SetPendingLimits(MaxInFlight, 64<<20)
	dsub, err := t.nc.Subscribe(deliverSubject(t.cluster, t.node), func(m *nats.Msg) {
		t.dispatch(m, func(ctx context.Context) []byte { return t.serveDelivery(ctx, d, m.Data) })
	})
	if err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("cluster: serving deliveries: %w", err)
	}
	dsub.SetPendingLimits(MaxInFlight, 64<<20)
	t.sub, t.dsub = sub, dsub
	return t.nc.Flush()
}

// serveAsk decodes an ask and applies it with h, until its deadline.
func (t *transport) serveAsk(ctx context.Context, h Handler, data []byte) []byte {
	req, left, err := decodeAsk(data)
	if err != nil {
		return answer(nil, abi.NewError(abi.CodeBadRequest, err.Error()))
	}
	if left == 0 {
		return answer(nil, abi.NewError(abi.CodeTimeout, "an ask to "+req.Target.String()+" arrived with no time left"))
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(left)*time.Millisecond)
	defer cancel()
	return answer(h(ctx, req))
}

// serveDelivery decodes a delivery and hands it to d, until its deadline.
func (t *transport) serveDelivery(ctx context.Context, d DeliverHandler, data []byte) []byte {
	if d == nil {
		return answer(nil, notServed("node "+t.node+" takes no deliveries"))
	}
	msgs, left, err := decodeDelivery(data)
	if err != nil {
		return answer(nil, abi.NewError(abi.CodeBadRequest, err.Error()))
	}
	if left == 0 {
		return answer(nil, abi.NewError(abi.CodeTimeout, "a delivery arrived with no time left"))
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(left)*time.Millisecond)
	defer cancel()
	refused, err := d(ctx, msgs)
	if err != nil {
		return answer(nil, err)
	}
	return answer(appendRefused(nil, refused), nil)
}

// answer encodes a handler's outcome.
func answer(reply []byte, err error) []byte {
	if err == nil {
		return appendAnswer(nil, reply, nil, nil)
	}
	var ns *NotServedError
	if errors.As(err, &ns) {
		return appendAnswer(nil, nil, ns.Err, ns)
	}
	var e *abi.Error
	if !errors.As(err, &e) {
		e = abi.NewError(abi.CodeUnavailable, err.Error())
	}
	return appendAnswer(nil, nil, e, nil)
}

// dispatch applies one ask or delivery in a goroutine of its own, or
// refuses it when MaxInFlight are being applied.
func (t *transport) dispatch(m *nats.Msg, serve func(ctx context.Context) []byte) {
	t.mu.Lock()
	closed := t.closed
	if !closed {
		t.wg.Add(1)
	}
	t.mu.Unlock()
	if closed {
		t.respond(m, answer(nil, notServed("node "+t.node+" is leaving")))
		return
	}
	if m.Reply == "" {
		// Published, not requested: nobody waits for the answer, so the
		// ask is dropped unapplied rather than run for nobody.
		t.wg.Done()
		return
	}
	select {
	case t.slots <- struct{}{}:
	default:
		t.wg.Done()
		t.respond(m, answer(nil, notServed(fmt.Sprintf("node %s is applying %d asks from other nodes; retry", t.node, MaxInFlight))))
		return
	}
	size := int64(len(m.Data))
	if t.bytes.Add(size) > t.maxBytes {
		t.bytes.Add(-size)
		<-t.slots
		t.wg.Done()
		t.respond(m, answer(nil, notServed(fmt.Sprintf("node %s is applying %d bytes of asks from other nodes; retry", t.node, t.maxBytes))))
		return
	}
	go func() {
		defer t.wg.Done()
		defer func() { <-t.slots }()
		defer t.bytes.Add(-size)
		t.respond(m, serve(t.ctx))
	}()
}

// respond sends data as the answer to m, or too_large when NATS cannot
// carry it.
func (t *transport) respond(m *nats.Msg, data []byte) {
	if limit := t.nc.MaxPayload(); int64(len(data)) > limit {
		data = answer(nil, abi.NewError(abi.CodeTooLarge, fmt.Sprintf("the reply is %d bytes, over the %d NATS carries between nodes", len(data), limit)))
	}
	if err := m.Respond(data); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		t.log.Warn("answering an ask from another node", "err", err)
	}
}

// close stops applying asks, cancels those being applied and waits for
// them, or for ctx. It keeps the subscriptions, so that an ask or a
// delivery that arrives later is answered "not served" (the sender tries
// it elsewhere) rather than lost, until the connection closes.
func (t *transport) close(ctx context.Context) error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	done := make(chan struct{})
	go func() { t.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cluster: asks still being applied: %w", ctx.Err())
	}
}
