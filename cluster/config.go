package cluster

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults and bounds of a Config.
const (
	// DefaultLeaseTTL is how long a member (and, later, an actor's lease)
	// lives without being renewed.
	DefaultLeaseTTL = 3 * time.Second
	// MinLeaseTTL and MaxLeaseTTL bound LeaseTTL.
	MinLeaseTTL = 1 * time.Second
	MaxLeaseTTL = 10 * time.Minute
	// MaxNameLen is the longest cluster or node name, in bytes.
	MaxNameLen = 64
	// DefaultStartTimeout bounds Start when its context has no deadline:
	// the embedded server's start and JetStream's first leader election.
	DefaultStartTimeout = 2 * time.Minute
	// MaxPayload is the default of Config.MaxPayload: the largest NATS
	// message the embedded server takes; an ask whose request or reply is
	// larger fails with too_large.
	MaxPayload = 8 << 20
	// MaxPayloadLimit is the largest Config.MaxPayload: NATS refuses a
	// larger max_payload.
	MaxPayloadLimit = 64 << 20
)

// Config configures a node. Name, Node and either Routes or NATSURL are
// required; the rest have defaults.
type Config struct {
	// Name is the cluster's name: the embedded NATS cluster's name, and the
	// prefix of the buckets and subjects of this wactor cluster (so that
	// several can share one NATS). Letters, digits, '-' and '_'.
	Name string
	// Node is this node's name, unique in the cluster: the embedded
	// server's name and the member's key. Letters, digits, '-' and '_'.
	Node string
	// LeaseTTL is how long the node's membership entry lives without a
	// heartbeat; heartbeats are sent every LeaseTTL/3. Default
	// [DefaultLeaseTTL].
	LeaseTTL time.Duration

	// NATSURL, when set, connects to an existing NATS cluster (one URL or
	// several, comma-separated) instead of embedding a server; Routes,
	// ClientAddr, ClusterAddr and DataDir are then unused.
	NATSURL string

	// DataDir is the folder of the embedded server's JetStream store.
	DataDir string
	// ClientAddr is the host:port of the embedded server's client port,
	// for NATS tools (the node itself connects in process); "": a free
	// port on 127.0.0.1.
	ClientAddr string
	// ClusterAddr is the host:port the embedded server takes routes from
	// its peers on.
	ClusterAddr string
	// Routes are the route URLs (nats-route://host:port) of the members;
	// the node's own may be among them and is then skipped. With no route
	// but its own, the node is a cluster of one.
	Routes []string
	// MaxPayload is the embedded server's max_payload, the largest message
	// it takes: it must hold the largest state value, message or reply
	// the node's actors may commit (see storage/natsstore). 0:
	// [MaxPayload]; at most [MaxPayloadLimit]. Unused with NATSURL (the
	// servers' own setting applies).
	MaxPayload int

	// Logger receives the node's records, and the embedded server's.
	// Nil discards them.
	Logger *slog.Logger
}

// CheckName explains what is wrong with a cluster or node name, or
// returns "": 1 to 64 letters, digits, '-' and '_' (they become parts of
// NATS subjects, bucket names and server names).
func CheckName(s string) string {
	if s == "" {
		return "empty name; use letters, digits, '-' and '_'"
	}
	if len(s) > MaxNameLen {
		return fmt.Sprintf("name %q is %d bytes long, over the limit of %d", s, len(s), MaxNameLen)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Sprintf("name %q contains %q; use letters, digits, '-' and '_'", s, r)
		}
	}
	return ""
}

// CheckRoute explains what is wrong with a route URL, or returns "".
func CheckRoute(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Sprintf("route %q is not a URL such as nats-route://10.0.0.1:6222", s)
	}
	if u.Scheme != "nats-route" && u.Scheme != "nats" {
		return fmt.Sprintf("route %q has scheme %q; use nats-route://host:port", s, u.Scheme)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("route %q has a path, query or fragment; give only nats-route://host:port", s)
	}
	if u.User != nil {
		return fmt.Sprintf("route %q carries credentials; wactor does not configure route authorization (see docs/cluster.md)", s)
	}
	if msg := checkHostPort(u.Host, false); msg != "" {
		return fmt.Sprintf("route %q: %s", s, msg)
	}
	return ""
}

// CheckNATSURL explains what is wrong with a nats_url (one URL or several,
// comma-separated), or returns "".
func CheckNATSURL(s string) string {
	if strings.TrimSpace(s) == "" {
		return "empty nats_url; give the URL of a NATS server, e.g. nats://10.0.0.1:4222"
	}
	for _, part := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		// Messages quote the URL without its user and password.
		part = RedactNATSURL(part)
		if err != nil || u.Host == "" || u.Opaque != "" {
			return fmt.Sprintf("%q is not a URL such as nats://10.0.0.1:4222", part)
		}
		if u.Scheme != "nats" && u.Scheme != "tls" {
			return fmt.Sprintf("%q has scheme %q; use nats:// or tls://", part, u.Scheme)
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Sprintf("%q has a path, query or fragment; give only scheme://host:port", part)
		}
		if msg := checkHostPort(u.Host, false); msg != "" {
			return fmt.Sprintf("%q: %s", part, msg)
		}
	}
	return ""
}

// RedactNATSURL returns the nats_url s (one URL or several,
// comma-separated) with the user information of each replaced by xxxxx,
// fit for a log or an error message: NATS takes a password, or a token in
// the place of the user name, there.
func RedactNATSURL(s string) string {
	parts := strings.Split(s, ",")
	for i, part := range parts {
		part = strings.TrimSpace(part)
		scheme, rest, ok := strings.Cut(part, "://")
		authority := rest
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			authority = rest[:end]
		}
		if at := strings.LastIndex(authority, "@"); ok && at >= 0 {
			part = scheme + "://xxxxx" + rest[at:]
		}
		parts[i] = part
	}
	return strings.Join(parts, ",")
}

// CheckListenAddr explains what is wrong with a host:port to listen on
// (port 0 picks a free one), or returns "".
func CheckListenAddr(s string) string { return checkHostPort(s, true) }

func checkHostPort(s string, zeroPort bool) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("%q is not host:port", s)
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Sprintf("%q is not a valid host", host)
	}
	p, err := strconv.Atoi(port)
	lo := 1
	if zeroPort {
		lo = 0
	}
	if err != nil || p < lo || p > 65535 {
		return fmt.Sprintf("port %q is not a number from %d to 65535", port, lo)
	}
	return ""
}

// IsLoopback reports whether the host of addr (host:port) is a loopback
// address or "localhost"; an empty host (every interface) is not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// check validates c and applies the defaults.
func (c *Config) check() error {
	if msg := CheckName(c.Name); msg != "" {
		return fmt.Errorf("%w: cluster %s", ErrConfig, msg)
	}
	if msg := CheckName(c.Node); msg != "" {
		return fmt.Errorf("%w: node %s", ErrConfig, msg)
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.LeaseTTL < MinLeaseTTL || c.LeaseTTL > MaxLeaseTTL {
		return fmt.Errorf("%w: lease TTL %s is not from %s to %s", ErrConfig, c.LeaseTTL, MinLeaseTTL, MaxLeaseTTL)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = MaxPayload
	}
	if c.MaxPayload < 0 || c.MaxPayload > MaxPayloadLimit {
		return fmt.Errorf("%w: max payload %d bytes is not from 1 to %d", ErrConfig, c.MaxPayload, MaxPayloadLimit)
	}
	if c.NATSURL != "" {
		if msg := CheckNATSURL(c.NATSURL); msg != "" {
			return fmt.Errorf("%w: nats_url %s", ErrConfig, msg)
		}
		if len(c.Routes) > 0 || c.ClientAddr != "" || c.ClusterAddr != "" {
			return fmt.Errorf("%w: with a NATS URL the node embeds no server: routes, client and cluster addresses do not apply", ErrConfig)
		}
		return nil
	}
	if c.DataDir == "" {
		return fmt.Errorf("%w: the embedded server needs a data folder for JetStream", ErrConfig)
	}
	if c.ClientAddr != "" {
		if msg := CheckListenAddr(c.ClientAddr); msg != "" {
			return fmt.Errorf("%w: client address %s", ErrConfig, msg)
		}
	}
	if msg := CheckListenAddr(c.ClusterAddr); msg != "" {
		return fmt.Errorf("%w: cluster address %s", ErrConfig, msg)
	}
	if len(c.Routes) == 0 {
		return fmt.Errorf("%w: no routes; list the route URL of every member", ErrConfig)
	}
	for _, r := range c.Routes {
		if msg := CheckRoute(r); msg != "" {
			return fmt.Errorf("%w: %s", ErrConfig, msg)
		}
	}
	return nil
}
