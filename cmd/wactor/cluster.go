package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/manifest"
)

// The environment variables of the cluster flags of run.
const (
	nodeEnv            = "WACTOR_NODE"
	natsAddrEnv        = "WACTOR_NATS_ADDR"
	natsClusterAddrEnv = "WACTOR_NATS_CLUSTER_ADDR"
)

// clusterFlags are the flags of run that place the node in a cluster.
type clusterFlags struct {
	node            string
	natsAddr        string
	natsClusterAddr string
	insecureNATS    bool
}

func (f *clusterFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.node, "node", "", "this node's `NAME` in the cluster, unique (default $"+nodeEnv+", else the host name up to its first dot)")
	fs.StringVar(&f.natsAddr, "nats-addr", "", "the embedded NATS server's client port, `HOST:PORT`, for NATS tools (default $"+natsAddrEnv+", else a free port on 127.0.0.1)")
	fs.StringVar(&f.natsClusterAddr, "nats-cluster-addr", "", "the embedded NATS server's route port, `HOST:PORT`, one of the manifest's cluster.routes (default $"+natsClusterAddrEnv+")")
	fs.BoolVar(&f.insecureNATS, "insecure-nats", false, "let the embedded NATS server listen beyond loopback, though its ports have no authentication or encryption (see docs/cluster.md)")
}

// orEnv returns v, else the value of the environment variable env.
func orEnv(v, env string) string {
	if v != "" {
		return v
	}
	return os.Getenv(env)
}

// clusterConfig resolves the cluster flags against the manifest m into
// the configuration of the node; dataDir is the folder the embedded
// server keeps JetStream in. Without a cluster section it refuses the
// cluster flags.
func (f *clusterFlags) clusterConfig(m *manifest.Manifest, dataDir string, log *slog.Logger) (cluster.Config, error) {
	if m.Cluster == nil {
		for name, v := range map[string]string{"--node": f.node, "--nats-addr": f.natsAddr, "--nats-cluster-addr": f.natsClusterAddr} {
			if v != "" {
				return cluster.Config{}, fmt.Errorf("%s: %s has no cluster section, so this node runs alone; drop %s, or add a cluster section (see docs/cluster.md)", name, m.File, name)
			}
		}
		return cluster.Config{}, nil
	}
	c := m.Cluster
	cfg := cluster.Config{Name: c.Name, LeaseTTL: c.LeaseTTL, NATSURL: c.NATSURL, Logger: log}
	node, err := nodeName(f.node)
	if err != nil {
		return cluster.Config{}, err
	}
	cfg.Node = node
	if cfg.MaxPayload, err = natsPayload(m); err != nil {
		return cluster.Config{}, err
	}
	natsAddr, clusterAddr := orEnv(f.natsAddr, natsAddrEnv), orEnv(f.natsClusterAddr, natsClusterAddrEnv)
	if c.NATSURL != "" {
		if f.natsAddr != "" || f.natsClusterAddr != "" {
			return cluster.Config{}, fmt.Errorf("--nats-addr and --nats-cluster-addr configure the embedded NATS server, and %s uses cluster.nats_url instead; drop them", m.File)
		}
		return cfg, nil
	}
	if clusterAddr == "" {
		return cluster.Config{}, fmt.Errorf("%s lists cluster.routes, so this node embeds a NATS server: give --nats-cluster-addr HOST:PORT (or $%s), the address of its route port, one of the routes", m.File, natsClusterAddrEnv)
	}
	for name, addr := range map[string]string{"--nats-addr": natsAddr, "--nats-cluster-addr": clusterAddr} {
		if addr == "" {
			continue
		}
		if msg := cluster.CheckListenAddr(addr); msg != "" {
			return cluster.Config{}, fmt.Errorf("%s %s: %s; write e.g. 127.0.0.1:6222", name, addr, msg)
		}
		if !cluster.IsLoopback(addr) && !f.insecureNATS {
			return cluster.Config{}, fmt.Errorf("%s %s listens beyond this machine, and the embedded NATS server's ports have no authentication or encryption: whoever reaches them reads and writes every actor's state. "+
				"Keep them on a private network and pass --insecure-nats, or use cluster.nats_url with a NATS cluster that has TLS and credentials (see docs/cluster.md)", name, addr)
		}
	}
	if f.insecureNATS && !cluster.IsLoopback(clusterAddr) {
		log.Warn("the embedded NATS server listens beyond loopback without authentication or encryption (--insecure-nats); keep its ports on a private network", "nats_cluster_addr", clusterAddr, "nats_addr", natsAddr)
	}
	cfg.ClientAddr, cfg.ClusterAddr, cfg.Routes = natsAddr, clusterAddr, c.Routes
	cfg.DataDir = filepath.Join(dataDir, "nats")
	return cfg, nil
}

// nodeName is the --node flag, else $WACTOR_NODE, else the host name up
// to its first dot.
func nodeName(flagValue string) (string, error) {
	from := "--node"
	name := flagValue
	if name == "" {
		name, from = os.Getenv(nodeEnv), "$"+nodeEnv
	}
	if name == "" {
		host, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("no --node given and the host name is unknown (%v); give --node NAME", err)
		}
		name, _, _ = strings.Cut(host, ".")
		from = "the host name"
	}
	if msg := cluster.CheckName(name); msg != "" {
		return "", fmt.Errorf("node name from %s: %s; give --node NAME", from, msg)
	}
	return name, nil
}

// clusterStatus adapts a cluster node to what the gateway shows.
type clusterStatus struct{ n *cluster.Node }

func (c clusterStatus) ClusterStatus() gateway.ClusterStatus {
	listed := c.n.ListedAt()
	st := gateway.ClusterStatus{Name: c.n.Name(), Node: c.n.NodeName(), ListedAt: listed,
		Stale: !listed.IsZero() && time.Since(listed) > 2*c.n.LeaseTTL()}
	for _, m := range c.n.Members() {
		st.Members = append(st.Members, gateway.ClusterMember{Node: m.Node, State: string(m.State), HTTPAddr: m.HTTPAddr,
			Activations: m.Activations, Self: m.Self, Started: m.Started, Updated: m.Updated})
	}
	return st
}

// startCluster starts the node of cfg (nil when cfg is the zero Config:
// no cluster), giving up when stop closes.
func startCluster(cfg cluster.Config, stop <-chan struct{}, log *slog.Logger) (*cluster.Node, error) {
	if cfg.Name == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultStartTimeout)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	how := "embedded NATS server, routes " + strings.Join(cfg.Routes, " ")
	if cfg.NATSURL != "" {
		how = "NATS at " + cluster.RedactNATSURL(cfg.NATSURL)
	}
	log.Info("cluster: starting", "cluster", cfg.Name, "node", cfg.Node, "nats", how, "lease_ttl", cfg.LeaseTTL.String())
	n, err := cluster.Start(ctx, cfg)
	if err != nil {
		select {
		case <-stop:
			return nil, errStopped
		default:
		}
		return nil, err
	}
	log.Info("cluster: NATS ready", "took", time.Since(start).Round(time.Millisecond).String())
	return n, nil
}

// closeCluster leaves the cluster; n may be nil.
func closeCluster(n *cluster.Node, log *slog.Logger) bool {
	if n == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		log.Error("leaving the cluster", "err", err)
		return false
	}
	return true
}

// setupClusterCmd is "wactor cluster".
func setupClusterCmd(fs *flag.FlagSet) runner {
	f := new(listFlags)
	f.register(fs)
	return func(args []string, stdout, stderr io.Writer) int {
		if len(args) != 1 || args[0] != "status" {
			return usageError(stderr, "cluster", "cluster takes status, as in: wactor cluster status")
		}
		body, code := f.get("cluster", "/v1/cluster", stdout, stderr)
		if body == nil {
			return code
		}
		return printCluster(body, f.base.Redacted(), stdout, stderr)
	}
}

// clusterAnswer is the answer of GET /v1/cluster.
type clusterAnswer struct {
	Clustered *bool  `json:"clustered"`
	Name      string `json:"name"`
	Node      string `json:"node"`
	ListedAt  string `json:"listed_at"`
	Stale     bool   `json:"stale"`
	Members   []struct {
		Node        string `json:"node"`
		State       string `json:"state"`
		HTTPAddr    string `json:"http_addr"`
		Activations int    `json:"activations"`
		Self        bool   `json:"self"`
		Started     string `json:"started"`
	} `json:"members"`
}

func printCluster(body []byte, from string, stdout, stderr io.Writer) int {
	var a clusterAnswer
	if err := json.Unmarshal(body, &a); err != nil || a.Clustered == nil {
		if err == nil {
			err = errors.New("no clustered field")
		}
		fmt.Fprintf(stderr, "wactor: %s answered something that is not a cluster status: %v\n", from, err)
		return exitFail
	}
	if !*a.Clustered {
		fmt.Fprintf(stdout, "not a cluster: the wactor at %s runs alone (its manifest has no cluster section)\n", from)
		return exitOK
	}
	fmt.Fprintf(stdout, "cluster %s, %d members, as node %s sees it\n", a.Name, len(a.Members), a.Node)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tACTIVATIONS\tHTTP\tSTARTED (UTC)")
	for _, m := range a.Members {
		name := m.Node
		if m.Self {
			name += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", name, m.State, m.Activations, m.HTTPAddr, m.Started)
	}
	tw.Flush()
	if a.Stale {
		fmt.Fprintf(stdout, "warning: node %s last read the member list at %s and cannot now (does it reach a majority of the NATS servers?): the list may be out of date\n", a.Node, a.ListedAt)
	}
	return exitOK
}
