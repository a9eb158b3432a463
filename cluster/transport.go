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
// as is; any other error as unavailable). ctx ends at the caller's
// deadline, or when the transport closes.
type Handler func(ctx context.Context, req *AskRequest) ([]byte, error)

// Transport carries asks between the nodes of a cluster.
type Transport interface {
	// Ask sends req to node and waits for its reply until ctx's deadline
	// (DefaultAskTimeout when ctx has none; the owner applies it for at
	// most MaxAskTime). It returns the reply's
	// payload, or an *abi.Error: the handler's own, timeout when the
	// deadline passed, unavailable when node does not serve asks (it is
	// not running, is leaving, or is too busy), too_large when the
	// request exceeds what NATS carries.
	Ask(ctx context.Context, node string, req *AskRequest) ([]byte, error)
	// Serve makes this node answer asks with h, until Close. It may be
	// called once.
	Serve(h Handler) error
}

// transport is the Transport on NATS: each node answers on its own
// subject, wactor.<cluster>.ask.<node>, with NATS request/reply.
type transport struct {
	nc      *nats.Conn
	cluster string
	node    string
	log     *slog.Logger

	mu     sync.Mutex
	sub    *nats.Subscription
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

func (t *transport) Ask(ctx context.Context, node string, req *AskRequest) ([]byte, error) {
	if msg := CheckName(node); msg != "" {
		return nil, abi.NewError(abi.CodeBadRequest, "node "+msg)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultAskTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	left := time.Until(deadline)
	if left <= 0 {
		return nil, abi.NewError(abi.CodeTimeout, "ask to "+req.Target.String()+": the deadline passed before it was sent")
	}
	data := req.appendTo(nil, uint64(min(max(left.Milliseconds(), 1), MaxAskTime.Milliseconds())))
	if limit := t.nc.MaxPayload(); int64(len(data)) > limit {
		return nil, abi.NewError(abi.CodeTooLarge, fmt.Sprintf("ask to %s on node %s is %d bytes, over the %d NATS carries between nodes", req.Target, node, len(data), limit))
	}
	msg, err := t.nc.RequestWithContext(ctx, askSubject(t.cluster, node), data)
	if err != nil {
		return nil, askError(ctx, err, node, req.Target)
	}
	var y abi.Reply
	if err := y.Decode(msg.Data); err != nil {
		return nil, abi.NewError(abi.CodeUnavailable, fmt.Sprintf("node %s answered an ask to %s with a bad reply: %v", node, req.Target, err))
	}
	if y.Code != "" {
		return nil, abi.NewError(y.Code, y.Message)
	}
	return y.Payload, nil
}

// askError translates a failed NATS request to the error vocabulary.
func askError(ctx context.Context, err error, node string, target abi.Ref) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return abi.NewError(abi.CodeUnavailable, "node "+node+" does not serve asks (not running, or leaving); ask to "+target.String())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return abi.NewError(abi.CodeTimeout, "no reply from node "+node+" to an ask to "+target.String()+" before the deadline")
	case ctx.Err() != nil:
		return abi.NewError(abi.CodeUnavailable, "ask to "+target.String()+" on node "+node+" canceled: "+ctx.Err().Error())
	}
	return abi.NewError(abi.CodeUnavailable, "ask to "+target.String()+" on node "+node+": "+err.Error())
}

func (t *transport) Serve(h Handler) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closed:
		return ErrClosed
	case t.sub != nil:
		return errors.New("cluster: the transport already serves asks")
	}
	sub, err := t.nc.Subscribe(askSubject(t.cluster, t.node), func(m *nats.Msg) { t.dispatch(h, m) })
	if err != nil {
		return fmt.Errorf("cluster: serving asks: %w", err)
	}
	sub.SetPendingLimits(MaxInFlight, 64<<20)
	t.sub = sub
	return t.nc.Flush()
}

// dispatch applies one ask in a goroutine of its own, or refuses it when
// MaxInFlight are being applied.
func (t *transport) dispatch(h Handler, m *nats.Msg) {
	t.mu.Lock()
	closed := t.closed
	if !closed {
		t.wg.Add(1)
	}
	t.mu.Unlock()
	if closed {
		t.respond(m, nil, abi.NewError(abi.CodeUnavailable, "node "+t.node+" is leaving"))
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
		t.respond(m, nil, abi.NewError(abi.CodeUnavailable, fmt.Sprintf("node %s is applying %d asks from other nodes; retry", t.node, MaxInFlight)))
		return
	}
	size := int64(len(m.Data))
	if t.bytes.Add(size) > t.maxBytes {
		t.bytes.Add(-size)
		<-t.slots
		t.wg.Done()
		t.respond(m, nil, abi.NewError(abi.CodeUnavailable, fmt.Sprintf("node %s is applying %d bytes of asks from other nodes; retry", t.node, t.maxBytes)))
		return
	}
	go func() {
		defer t.wg.Done()
		defer func() { <-t.slots }()
		defer t.bytes.Add(-size)
		req, left, err := decodeAsk(m.Data)
		if err != nil {
			t.respond(m, nil, abi.NewError(abi.CodeBadRequest, err.Error()))
			return
		}
		if left == 0 {
			t.respond(m, nil, abi.NewError(abi.CodeTimeout, "an ask to "+req.Target.String()+" arrived with no time left"))
			return
		}
		ctx, cancel := context.WithTimeout(t.ctx, time.Duration(left)*time.Millisecond)
		defer cancel()
		reply, err := h(ctx, req)
		t.respond(m, reply, err)
	}()
}

// respond answers m with reply, or with err as an error reply.
func (t *transport) respond(m *nats.Msg, reply []byte, err error) {
	var y abi.Reply
	if err != nil {
		var e *abi.Error
		if !errors.As(err, &e) {
			e = abi.NewError(abi.CodeUnavailable, err.Error())
		}
		y.Code, y.Message = e.Code, e.Message
	} else {
		y.Payload = reply
		if y.Payload == nil {
			y.Payload = []byte{}
		}
	}
	data := y.AppendTo(nil)
	if limit := t.nc.MaxPayload(); int64(len(data)) > limit {
		y = abi.Reply{Code: abi.CodeTooLarge, Message: fmt.Sprintf("the reply is %d bytes, over the %d NATS carries between nodes", len(data), limit)}
		data = y.AppendTo(nil)
	}
	if err := m.Respond(data); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		t.log.Warn("answering an ask from another node", "err", err)
	}
}

// close stops taking asks, cancels those being applied and waits for
// them, or for ctx.
func (t *transport) close(ctx context.Context) error {
	t.mu.Lock()
	t.closed = true
	sub := t.sub
	t.mu.Unlock()
	if sub != nil {
		if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			t.log.Warn("unsubscribing from asks", "err", err)
		}
	}
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
