package manifest

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Cluster makes the node a member of a cluster on NATS JetStream (see
// docs/cluster.md): either each node embeds a NATS server that routes to
// the others (Routes), or every node connects to an existing NATS cluster
// (NATSURL). Exactly one of the two is given.
type Cluster struct {
	// Name is the cluster's name: letters, digits, '-' and '_'. Required.
	Name string `yaml:"name"`
	// Routes are the route URLs of the members' embedded NATS servers,
	// nats-route://host:port; a node may list itself (it is skipped), so
	// that every node can share one manifest.
	Routes []string `yaml:"routes"`
	// LeaseTTL is how long a node stays a member, and owns its actors,
	// without renewing. Default [DefaultLeaseTTL].
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// NATSURL connects to an existing NATS cluster instead of embedding
	// servers: nats://host:port or tls://host:port, several
	// comma-separated.
	NATSURL string `yaml:"nats_url"`
}

// Defaults and bounds of the cluster section.
const (
	// DefaultLeaseTTL is the lease_ttl of a cluster that gives none.
	DefaultLeaseTTL = 3 * time.Second
	// MinLeaseTTL and MaxLeaseTTL bound lease_ttl.
	MinLeaseTTL = time.Second
	MaxLeaseTTL = 10 * time.Minute
	// MaxClusterNameLen is the longest cluster name, in bytes.
	MaxClusterNameLen = 64
	// MaxRoutes is the most routes a cluster section lists.
	MaxRoutes = 64
)

var clusterSection = newSection[Cluster]("under cluster", map[string]string{
	"name": "add name: <cluster name>, the same on every node",
})

// cluster reads the cluster mapping; m.Cluster stays nil when it is
// absent or null.
func (d *decoder) cluster(v ast.Node, path string, m *Manifest) {
	mm, site, ok := d.mapping(v, path, "a mapping with name and routes (or nats_url)")
	if !ok || mm == nil {
		if ok {
			d.errAt(site, path, "empty cluster section; give name and routes (or nats_url), or remove it to run a single node")
		}
		return
	}
	c := &Cluster{LeaseTTL: DefaultLeaseTTL}
	present := d.fields(mm, site, path, clusterSection, func(key string, v ast.Node, p string) {
		switch key {
		case "name":
			if s, site, ok := d.str(v, p, "a cluster name"); ok {
				if msg := checkClusterName(s); msg != "" {
					d.errAt(site, p, "%s", msg)
				} else {
					c.Name = s
				}
			}
		case "routes":
			c.Routes = d.routes(v, p)
		case "lease_ttl":
			if t, ok := d.duration(v, p); ok {
				if t < MinLeaseTTL || t > MaxLeaseTTL {
					d.errAt(v, p, "lease_ttl %s is not from %s to %s; a shorter lease moves actors faster after a crash, a longer one tolerates longer pauses", t, MinLeaseTTL, MaxLeaseTTL)
				} else {
					c.LeaseTTL = t
				}
			}
		case "nats_url":
			if s, site, ok := d.str(v, p, "nats://host:port"); ok {
				if msg := checkNATSURL(s); msg != "" {
					d.errAt(site, p, "%s", msg)
				} else {
					c.NATSURL = s
				}
			}
		}
	})
	r, hasRoutes := present["routes"]
	_, hasURL := present["nats_url"]
	switch {
	case hasRoutes && hasURL:
		d.errAt(r.keyNode, join(path, "routes"), "give routes (each node embeds a NATS server) or nats_url (the nodes use an existing NATS cluster), not both")
	case !hasRoutes && !hasURL:
		d.errAt(site, path, "the cluster needs routes (each node embeds a NATS server; list every member's nats-route://host:port) or nats_url (an existing NATS cluster)")
	}
	m.Cluster = c
}

// routes reads the routes list.
func (d *decoder) routes(v ast.Node, p string) []string {
	n, site, ok := d.value(v, p)
	if !ok {
		return nil
	}
	seq, isSeq := n.(*ast.SequenceNode)
	if !isSeq {
		d.wrongType(site, p, "a list of route URLs, e.g. [nats-route://10.0.0.1:6222, nats-route://10.0.0.2:6222]", n, "")
		return nil
	}
	if len(seq.Values) == 0 {
		d.errAt(site, p, "no routes; list the nats-route://host:port of every member (a node may list itself)")
		return nil
	}
	if len(seq.Values) > MaxRoutes {
		d.errAt(site, p, "%d routes, over the limit of %d", len(seq.Values), MaxRoutes)
		return nil
	}
	var out []string
	seen := map[string]ast.Node{}
	for i, item := range seq.Values {
		ip := fmt.Sprintf("%s[%d]", p, i)
		if in, isite, ok := d.value(item, ip); ok {
			if _, isMap := in.(*ast.MappingNode); isMap {
				d.wrongType(isite, ip, "a string (nats-route://host:port)", in, "quote each URL in a [...] list: ['nats-route://10.0.0.1:6222']")
				continue
			}
		}
		s, isite, ok := d.str(item, ip, "nats-route://host:port")
		if !ok {
			continue
		}
		if msg := checkRoute(s); msg != "" {
			d.errAt(isite, ip, "%s", msg)
			continue
		}
		if first, dup := seen[s]; dup {
			line, _ := position(first)
			d.errAt(isite, ip, "route %s is already listed at line %d; list each member once", s, line)
			continue
		}
		seen[s] = isite
		out = append(out, s)
	}
	return out
}

// checkClusterName explains what is wrong with a cluster name, or "".
func checkClusterName(s string) string {
	const rule = "use letters, digits, '-' and '_' (it names NATS subjects and buckets)"
	if s == "" {
		return "empty cluster name; " + rule
	}
	if len(s) > MaxClusterNameLen {
		return fmt.Sprintf("cluster name is %d bytes long, over the limit of %d", len(s), MaxClusterNameLen)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Sprintf("cluster name %q contains %q; %s", s, r, rule)
		}
	}
	return ""
}

// checkRoute explains what is wrong with a route URL, or returns "".
func checkRoute(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Sprintf("route %s is not a URL; write nats-route://host:port, e.g. nats-route://10.0.0.1:6222", quote(s))
	}
	if u.Scheme != "nats-route" && u.Scheme != "nats" {
		return fmt.Sprintf("route %s has scheme %q; write nats-route://host:port", quote(s), u.Scheme)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("route %s has a path, query or fragment; give only nats-route://host:port", quote(s))
	}
	if u.User != nil {
		return fmt.Sprintf("route %s carries credentials; wactor does not configure route authorization: keep the route port on a private network (see docs/cluster.md)", quote(s))
	}
	return checkURLHost(s, u.Host)
}

// checkNATSURL explains what is wrong with nats_url, or returns "".
func checkNATSURL(s string) string {
	if strings.TrimSpace(s) == "" {
		return "empty nats_url; give the URL of a NATS server, e.g. nats://10.0.0.1:4222, or several comma-separated"
	}
	for _, part := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		// Messages quote the URL without its password or token.
		part = hideUser(strings.TrimSpace(part))
		if err != nil || u.Host == "" || u.Opaque != "" {
			return fmt.Sprintf("%s is not a URL; write nats://host:port or tls://host:port", quote(part))
		}
		if u.Scheme != "nats" && u.Scheme != "tls" {
			return fmt.Sprintf("%s has scheme %q; write nats://host:port or tls://host:port", quote(part), u.Scheme)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Sprintf("%s has a path, query or fragment; give only scheme://host:port", quote(part))
		}
		if msg := checkURLHost(part, u.Host); msg != "" {
			return msg
		}
	}
	return ""
}

// hideUser returns URL s with its user information, if any, replaced by
// xxxxx.
func hideUser(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	authority := rest
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		authority = rest[:end]
	}
	if at := strings.LastIndex(authority, "@"); ok && at >= 0 {
		return scheme + "://xxxxx" + rest[at:]
	}
	return s
}

// checkURLHost checks the host:port of URL s.
func checkURLHost(s, hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" {
		return fmt.Sprintf("%s does not give host:port; write e.g. nats-route://10.0.0.1:6222", quote(s))
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Sprintf("%s: port %s is not a number from 1 to 65535", quote(s), quote(port))
	}
	return ""
}
