package manifest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/manifest"
)

const clusterActors = "actors: [{type: a, module: wasm/counter.wasm}]\n"

func TestParseCluster(t *testing.T) {
	dir := fixture(t)
	m, err := parse(t, dir, "version: 1\n"+clusterActors)
	require.NoError(t, err)
	assert.Nil(t, m.Cluster, "without a cluster section the node runs alone")

	m, err = parse(t, dir, `version: 1
cluster:
  name: demo
  routes:
    - nats-route://127.0.0.1:6222
    - nats-route://127.0.0.1:6223
    - nats-route://[::1]:6224
`+clusterActors)
	require.NoError(t, err)
	assert.Equal(t, &manifest.Cluster{Name: "demo", LeaseTTL: manifest.DefaultLeaseTTL,
		Routes: []string{"nats-route://127.0.0.1:6222", "nats-route://127.0.0.1:6223", "nats-route://[::1]:6224"}}, m.Cluster)

	m, err = parse(t, dir, "version: 1\ncluster: {name: prod_1, nats_url: 'nats://10.0.0.1:4222, tls://10.0.0.2:4222', lease_ttl: 5s}\n"+clusterActors)
	require.NoError(t, err)
	assert.Equal(t, &manifest.Cluster{Name: "prod_1", LeaseTTL: 5 * time.Second, NATSURL: "nats://10.0.0.1:4222, tls://10.0.0.2:4222"}, m.Cluster)
}

func TestParseClusterErrors(t *testing.T) {
	dir := fixture(t)
	for _, tt := range []struct {
		name, src string
		want      []string // "line:col path: message part"
	}{
		{"empty", "cluster:\n", []string{"1:10 cluster: empty cluster section"}},
		{"no name", "cluster: {routes: ['nats-route://a:1']}\n", []string{`1:10 cluster.name: missing required field "name"`}},
		{"neither", "cluster:\n  name: x\n", []string{"2:3 cluster: the cluster needs routes"}},
		{"both", "cluster:\n  name: x\n  routes: [nats-route://a:1]\n  nats_url: nats://b:2\n", []string{"3:3 cluster.routes: give routes (each node embeds a NATS server) or nats_url"}},
		{"bad name", "cluster: {name: a.b, nats_url: nats://b:2}\n", []string{`1:17 cluster.name: cluster name "a.b" contains '.'`}},
		{"bad route", "cluster:\n  name: x\n  routes:\n    - http://a:1\n    - nats-route://a\n    - nats-route://u:p@a:1\n    - 6222\n", []string{
			`4:7 cluster.routes[0]: route "http://a:1" has scheme "http"`,
			`5:7 cluster.routes[1]: "nats-route://a" does not give host:port`,
			"6:7 cluster.routes[2]: route \"nats-route://u:p@a:1\" carries credentials",
			"7:7 cluster.routes[3]: want a string (nats-route://host:port), got the integer 6222",
		}},
		{"duplicate route", "cluster: {name: x, routes: ['nats-route://a:1', 'nats-route://a:1']}\n", []string{"1:49 cluster.routes[1]: route nats-route://a:1 is already listed at line 3"}},
		{"unquoted in flow", "cluster: {name: x, routes: [nats-route://a:1]}\n", []string{"cluster.routes[0]: want a string (nats-route://host:port), got a mapping; quote each URL in a [...] list"}},
		{"empty routes", "cluster: {name: x, routes: []}\n", []string{"1:28 cluster.routes: no routes"}},
		{"bad url", "cluster: {name: x, nats_url: 'http://a:1'}\n", []string{`1:30 cluster.nats_url: "http://a:1" has scheme "http"`}},
		// The password or token of a nats_url stays out of the message.
		{"bad url with a password", "cluster: {name: x, nats_url: 'nats://u:s3cr3t@a:port'}\n", []string{`1:30 cluster.nats_url: "nats://xxxxx@a:port" is not a URL`}},
		{"bad url with a token", "cluster: {name: x, nats_url: 'nats://a:1,ws://s3cr3t@b:1/x'}\n", []string{`1:30 cluster.nats_url: "ws://xxxxx@b:1/x" has scheme "ws"`}},
		{"short ttl", "cluster: {name: x, nats_url: 'nats://a:1', lease_ttl: 100ms}\n", []string{"1:55 cluster.lease_ttl: lease_ttl 100ms is not from 1s to 10m0s"}},
		{"unknown", "cluster: {name: x, nats_url: 'nats://a:1', ttl: 3s}\n", []string{`1:44 cluster.ttl: unknown field "ttl"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, dir, "version: 1\n"+clusterActors+tt.src)
			list := problems(t, err)
			var got []string
			for _, e := range list {
				got = append(got, fmt.Sprintf("%d:%d %s: %s", e.Line-2, e.Column, e.Path, e.Msg))
			}
			require.Len(t, got, len(tt.want), "problems:\n%s", strings.Join(got, "\n"))
			for i, w := range tt.want {
				assert.Contains(t, got[i], w)
			}
		})
	}
}
