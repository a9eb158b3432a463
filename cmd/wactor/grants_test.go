package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/manifest"
)

func TestDirGrants(t *testing.T) {
	assert.Nil(t, dirGrants(nil), "no folders unless granted")
	assert.Equal(t, []host.DirGrant{
		{HostPath: "/srv/in", GuestPath: "/in", ReadOnly: true},
		{HostPath: "/srv/out", GuestPath: "/out", ReadOnly: false},
	}, dirGrants([]manifest.Dir{
		{Host: "/srv/in", Guest: "/in", Mode: manifest.DirReadOnly},
		{Host: "/srv/out", Guest: "/out", Mode: manifest.DirReadWrite},
	}))
}
