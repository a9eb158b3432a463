package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/manifest"
)

func TestClusterConfig(t *testing.T) {
	for _, env := range []string{nodeEnv, natsAddrEnv, natsClusterAddrEnv} {
		t.Setenv(env, "")
		os.Unsetenv(env)
	}
	log := slog.New(slog.DiscardHandler)
	routes := &manifest.Cluster{Name: "demo", LeaseTTL: 3 * time.Second, Routes: []string{"nats-route://127.0.0.1:6222", "nats-route://127.0.0.1:6223"}}
	byURL := &manifest.Cluster{Name: "demo", LeaseTTL: time.Second, NATSURL: "nats://10.0.0.1:4222"}
	m := func(c *manifest.Cluster) *manifest.Manifest {
		return &manifest.Manifest{File: "wactor.yaml", Cluster: c}
	}

	f := clusterFlags{node: "n1", natsAddr: "127.0.0.1:4222", natsClusterAddr: "127.0.0.1:6222"}
	cfg, err := f.clusterConfig(m(routes), "/data", log)
	require.NoError(t, err)
	assert.Equal(t, "demo", cfg.Name)
	assert.Equal(t, "n1", cfg.Node)
	assert.Equal(t, 3*time.Second, cfg.LeaseTTL)
	assert.Equal(t, "127.0.0.1:4222", cfg.ClientAddr)
	assert.Equal(t, "127.0.0.1:6222", cfg.ClusterAddr)
	assert.Equal(t, routes.Routes, cfg.Routes)
	assert.Equal(t, filepath.Join("/data", "nats"), cfg.DataDir)

	// The environment stands in for the flags.
	t.Setenv(nodeEnv, "from-env")
	t.Setenv(natsClusterAddrEnv, "127.0.0.1:6223")
	cfg, err = (&clusterFlags{}).clusterConfig(m(routes), "/data", log)
	require.NoError(t, err)
	assert.Equal(t, "from-env", cfg.Node)
	assert.Equal(t, "127.0.0.1:6223", cfg.ClusterAddr)
	assert.Equal(t, "", cfg.ClientAddr)
	// A flag wins over its variable.
	cfg, err = (&clusterFlags{node: "flag"}).clusterConfig(m(routes), "/data", log)
	require.NoError(t, err)
	assert.Equal(t, "flag", cfg.Node)
	os.Unsetenv(nodeEnv)
	os.Unsetenv(natsClusterAddrEnv)

	cfg, err = (&clusterFlags{node: "n1"}).clusterConfig(m(byURL), "/data", log)
	require.NoError(t, err)
	assert.Equal(t, "nats://10.0.0.1:4222", cfg.NATSURL)
	assert.Empty(t, cfg.DataDir)

	cfg, err = (&clusterFlags{}).clusterConfig(m(nil), "", log)
	require.NoError(t, err)
	assert.Empty(t, cfg.Name, "no cluster section: no cluster")

	for name, tc := range map[string]struct {
		f    clusterFlags
		c    *manifest.Cluster
		want string
	}{
		"flag without cluster":  {clusterFlags{natsAddr: "127.0.0.1:1"}, nil, "--nats-addr: wactor.yaml has no cluster section"},
		"node without cluster":  {clusterFlags{node: "n1"}, nil, "--node: wactor.yaml has no cluster section"},
		"no cluster addr":       {clusterFlags{node: "n1"}, routes, "give --nats-cluster-addr HOST:PORT"},
		"bad node":              {clusterFlags{node: "a.b", natsClusterAddr: "127.0.0.1:1"}, routes, `node name from --node: name "a.b" contains '.'`},
		"bad addr":              {clusterFlags{node: "n1", natsClusterAddr: "nope"}, routes, "--nats-cluster-addr nope"},
		"beyond loopback":       {clusterFlags{node: "n1", natsClusterAddr: "0.0.0.0:6222"}, routes, "--insecure-nats"},
		"client beyond":         {clusterFlags{node: "n1", natsClusterAddr: "127.0.0.1:6222", natsAddr: ":4222"}, routes, "--nats-addr :4222 listens beyond this machine"},
		"embedded flags by URL": {clusterFlags{node: "n1", natsClusterAddr: "127.0.0.1:6222"}, byURL, "cluster.nats_url"},
	} {
		_, err := tc.f.clusterConfig(m(tc.c), "/data", log)
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), tc.want, name)
		}
	}
	// --insecure-nats lets the ports listen beyond loopback.
	f = clusterFlags{node: "n1", natsClusterAddr: "0.0.0.0:6222", insecureNATS: true}
	_, err = f.clusterConfig(m(routes), "/data", log)
	assert.NoError(t, err)
}

func TestNodeNameFromHost(t *testing.T) {
	t.Setenv(nodeEnv, "")
	os.Unsetenv(nodeEnv)
	host, err := os.Hostname()
	require.NoError(t, err)
	name, err := nodeName("")
	short, _, _ := strings.Cut(host, ".")
	if err != nil {
		assert.Contains(t, err.Error(), "give --node NAME", "host name %q", host)
		return
	}
	assert.Equal(t, short, name)
}
