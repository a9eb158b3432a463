package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embedded is a nats-server with JetStream running in this process.
type embedded struct {
	srv *server.Server
	log *natsLogger
}

// startServer starts the embedded server c describes and waits until it
// takes connections (its JetStream may still be electing a leader).
func startServer(ctx context.Context, c *Config) (*embedded, error) {
	routes, alone, err := routeURLs(c.Routes, c.ClusterAddr)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: c.Node,
		JetStream:  true,
		StoreDir:   c.DataDir,
		MaxPayload: int32(c.MaxPayload),
		NoSigs:     true,
		// The node connects in process; the client port is for tools.
		// The server opens its route port only once it listens for
		// clients, so without ClientAddr it takes a free port on loopback.
		Host: "127.0.0.1",
		Port: server.RANDOM_PORT,
		// A route to a member that is down is retried every second; log
		// the failures once a minute rather than at every attempt.
		ConnectErrorReports:   60,
		ReconnectErrorReports: 60,
		// A node that leaves stops its server in lame duck mode (see
		// leave): it hands its Raft leaderships over, waits a second for
		// them to move, then closes what clients (tools) are left within
		// a second more.
		LameDuckDuration:    2 * time.Second,
		LameDuckGracePeriod: time.Second,
	}
	if c.ClientAddr != "" {
		host, port, _ := net.SplitHostPort(c.ClientAddr)
		opts.Host = host
		if p, _ := strconv.Atoi(port); p != 0 {
			opts.Port = p
		}
	}
	if !alone {
		host, port, _ := net.SplitHostPort(c.ClusterAddr)
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: host}
		opts.Cluster.Port, _ = strconv.Atoi(port)
		if opts.Cluster.Port == 0 {
			opts.Cluster.Port = server.RANDOM_PORT
		}
		opts.Routes = routes
		rt := raftClock(c.LeaseTTL)
		// A route whose peer stops answering (paused, or cut off) is
		// closed within routeMissedPings+1 beats, two thirds of the
		// lease; until then a third of the reads, which any replica
		// may answer, would go to that peer and wait out their attempt.
		opts.Cluster.PingInterval = rt.heartbeat
		opts.Cluster.MaxPingsOut = routeMissedPings
		c.Logger.Debug("cluster: Raft clock of the embedded server", "heartbeat", rt.heartbeat,
			"election", fmt.Sprintf("%s to %s", rt.minElection, rt.maxElection))
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("cluster: configuring the embedded NATS server: %w", err)
	}
	lg := &natsLogger{log: c.Logger.With("component", "nats"), fatal: make(chan string, 1)}
	srv.SetLoggerV2(lg, false, false, false)
	srv.Start()
	e := &embedded{srv: srv, log: lg}
	for {
		if srv.ReadyForConnections(100 * time.Millisecond) {
			return e, nil
		}
		select {
		case msg := <-lg.fatal:
			e.shutdown()
			return nil, fmt.Errorf("cluster: the embedded NATS server did not start: %s", msg)
		case <-ctx.Done():
			e.shutdown()
			return nil, fmt.Errorf("cluster: the embedded NATS server did not start in time: %w", ctx.Err())
		default:
		}
	}
}

// leave stops the server as a member that leaves its cluster: when it is
// clustered, it first hands the leadership of every Raft group it leads
// (JetStream's meta group, the streams and their consumers) to another
// server and waits a second for the transfer (nats-server's lame duck
// mode), so that the other servers go on at once instead of electing a
// leader after their election timeout (see raftTimingFor). Close the
// node's own connection first: lame duck mode closes the clients left.
func (e *embedded) leave() {
	if e.srv.JetStreamIsClustered() {
		e.handOverStreams(handOverLimit)
		e.srv.LameDuckShutdown()
	}
	e.shutdown()
}

// routeMissedPings is how many pings a route may leave unanswered; at
// the next beat the server closes it.
const routeMissedPings = 3

// handOverLimit bounds how long a leaving node waits for its streams'
// leaderships to move.
const handOverLimit = 5 * time.Second

// handOverStreams asks this server to step down as leader of each stream
// it leads, again every 100 ms, until another server leads each or limit
// passes. Lame duck mode steps every Raft group down once and waits a
// second; a step-down finds no successor when no follower is current
// (they lag behind under load), and the stream is then without a leader
// until an election, 4 to 5 heartbeats after the server stops
// (raftTimingFor): every commit waits that long. Asking until the move
// is seen closes that gap.
func (e *embedded) handOverStreams(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		led := e.ledStreams()
		if len(led) == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.log.log.Warn("cluster: leaving while still leading streams; they elect a leader after this node stops", "streams", led)
			return
		}
		for _, st := range led {
			if err := e.srv.JetStreamStepdownStream(st.account, st.name); err != nil {
				e.log.log.Debug("cluster: stepping down as a stream's leader", "stream", st.name, "err", err)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ledStream names a stream of an account.
type ledStream struct{ account, name string }

// ledStreams lists the streams this server leads.
func (e *embedded) ledStreams() []ledStream {
	info, err := e.srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
	if err != nil {
		return nil
	}
	var led []ledStream
	for _, acc := range info.AccountDetails {
		for _, st := range acc.Streams {
			if st.Cluster != nil && st.Cluster.Leader == e.srv.Name() && len(st.Cluster.Replicas) > 0 {
				led = append(led, ledStream{acc.Name, st.Name})
			}
		}
	}
	return led
}

// shutdown stops the server and waits until it has.
func (e *embedded) shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// routeURLs parses the routes, and reports whether they all name this
// node's own cluster address (then the node is a cluster of one and runs
// JetStream unclustered). The server itself skips a route to itself, and
// counts every route when it guesses the cluster's size, so the routes are
// kept as given.
func routeURLs(routes []string, own string) ([]*url.URL, bool, error) {
	var out []*url.URL
	alone := true
	for _, r := range routes {
		if msg := CheckRoute(r); msg != "" {
			return nil, false, fmt.Errorf("%w: %s", ErrConfig, msg)
		}
		u, _ := url.Parse(r)
		out = append(out, u)
		if !isOwnAddr(u.Host, own) {
			alone = false
		}
	}
	return out, alone, nil
}

// isOwnAddr reports whether route (host:port) names the address own
// (host:port) this node listens on for routes.
func isOwnAddr(route, own string) bool {
	rh, rp, err1 := net.SplitHostPort(route)
	oh, op, err2 := net.SplitHostPort(own)
	if err1 != nil || err2 != nil || rp != op {
		return false
	}
	if rh == oh {
		return true
	}
	loop := func(h string) bool {
		ip := net.ParseIP(h)
		return h == "localhost" || ip != nil && ip.IsLoopback()
	}
	if loop(rh) && (loop(oh) || oh == "" || oh == "0.0.0.0" || oh == "::") {
		return true
	}
	if oh != "" && oh != "0.0.0.0" && oh != "::" {
		return false
	}
	// Listening on every interface: the route is ours when its host is
	// one of this machine's addresses.
	ip := net.ParseIP(rh)
	if ip == nil {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// natsLogger passes the embedded server's records to slog: its notices
// at debug level (it is chatty), warnings and errors as such. A fatal
// record is logged as an error and reported on fatal: the server logs it
// when it cannot listen, and must not end the process.
type natsLogger struct {
	log   *slog.Logger
	fatal chan string
	once  sync.Once
}

func (l *natsLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Tracef(format string, v ...any)  {}
func (l *natsLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg)
	l.once.Do(func() { l.fatal <- msg })
}

// parseRoute returns the host:port of a route URL.
func parseRoute(r string) (string, error) {
	u, err := url.Parse(r)
	if err != nil {
		return "", err
	}
	return u.Host, nil
}
