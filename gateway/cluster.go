package gateway

import (
	"net/http"
	"time"
)

// Cluster tells the gateway about the cluster its node belongs to, for
// GET /v1/cluster. The gateway knows nothing of how the cluster is run;
// wactor run adapts its cluster node to this.
type Cluster interface {
	// ClusterStatus returns the members this node knows of.
	ClusterStatus() ClusterStatus
}

// ClusterStatus is a node's view of its cluster.
type ClusterStatus struct {
	Name    string // the cluster's name
	Node    string // the node answering
	Members []ClusterMember
	// ListedAt is when the node last read the whole member list.
	ListedAt time.Time
	// Stale: the node has not managed to read the list for longer than
	// twice the cluster's lease TTL, so it may be out of date.
	Stale bool
}

// ClusterMember is one member of a cluster.
type ClusterMember struct {
	Node        string
	State       string // joining, active or leaving
	HTTPAddr    string
	Activations int // at its last heartbeat
	Self        bool
	Started     time.Time
	Updated     time.Time // its last heartbeat, by the NATS server's clock
}

// clusterMemberJSON is a member in GET /v1/cluster.
type clusterMemberJSON struct {
	Node        string `json:"node"`
	State       string `json:"state"`
	HTTPAddr    string `json:"http_addr"`
	Activations int    `json:"activations"`
	Self        bool   `json:"self"`
	Started     string `json:"started"`
	Updated     string `json:"updated"`
}

// clusterJSON is the answer of GET /v1/cluster. A node that runs alone
// answers {"clustered": false, "members": []}.
type clusterJSON struct {
	Clustered bool                `json:"clustered"`
	Name      string              `json:"name,omitempty"`
	Node      string              `json:"node,omitempty"`
	Members   []clusterMemberJSON `json:"members"`
	ListedAt  string              `json:"listed_at,omitempty"`
	Stale     bool                `json:"stale,omitempty"`
}

// cluster serves GET /v1/cluster.
func (g *Gateway) cluster(w http.ResponseWriter, r *http.Request) {
	out := clusterJSON{Members: []clusterMemberJSON{}}
	if g.cl != nil {
		st := g.cl.ClusterStatus()
		out.Clustered, out.Name, out.Node, out.Stale = true, st.Name, st.Node, st.Stale
		if !st.ListedAt.IsZero() {
			out.ListedAt = st.ListedAt.UTC().Format(time.RFC3339Nano)
		}
		for _, m := range st.Members {
			out.Members = append(out.Members, clusterMemberJSON{Node: m.Node, State: m.State, HTTPAddr: m.HTTPAddr,
				Activations: m.Activations, Self: m.Self,
				Started: m.Started.UTC().Format(time.RFC3339Nano), Updated: m.Updated.UTC().Format(time.RFC3339Nano)})
		}
	}
	writeJSON(w, http.StatusOK, out)
}
