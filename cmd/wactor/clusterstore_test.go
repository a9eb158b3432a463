package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/manifest"
)

// TestNATSPayload: the embedded server takes the largest value the
// manifest's types may commit, never less than the default, and a
// max_message NATS cannot carry is refused, naming its type.
func TestNATSPayload(t *testing.T) {
	types := func(sizes ...manifest.Size) *manifest.Manifest {
		m := &manifest.Manifest{File: "wactor.yaml"}
		for i, s := range sizes {
			m.Actors = append(m.Actors, manifest.Actor{Type: string(rune('a' + i)), MaxMessage: s})
		}
		return m
	}
	got, err := natsPayload(types(manifest.DefaultMaxMessage))
	require.NoError(t, err)
	assert.Equal(t, cluster.MaxPayload, got)

	got, err = natsPayload(types(manifest.DefaultMaxMessage, 32*manifest.MiB, 4*manifest.KiB))
	require.NoError(t, err)
	assert.Equal(t, 32<<20+storeMargin, got)

	got, err = natsPayload(types(manifest.Size(cluster.MaxPayloadLimit - storeMargin)))
	require.NoError(t, err)
	assert.Equal(t, cluster.MaxPayloadLimit, got)

	_, err = natsPayload(types(manifest.DefaultMaxMessage, manifest.Size(cluster.MaxPayloadLimit-storeMargin+1)))
	require.ErrorContains(t, err, `actor type "b" has max_message`)
}
