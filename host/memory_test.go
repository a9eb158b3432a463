package host

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
)

func TestCgroupMemoryLimit(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, c := range []struct {
		name string
		fs   fstest.MapFS
		want int64
	}{
		{"no cgroup file", fstest.MapFS{}, 0},
		{"v2 limit", fstest.MapFS{
			"proc/self/cgroup":                 file("0::/app\n"),
			"sys/fs/cgroup/app/memory.max":     file("536870912\n"),
			"sys/fs/cgroup/memory.max":         file("max\n"),
			"sys/fs/cgroup/app/memory.current": file("1\n"),
		}, 512 << 20},
		{"v2 no limit", fstest.MapFS{
			"proc/self/cgroup":             file("0::/app\n"),
			"sys/fs/cgroup/app/memory.max": file("max\n"),
		}, 0},
		{"v2 parent lower", fstest.MapFS{
			"proc/self/cgroup":               file("0::/a/b\n"),
			"sys/fs/cgroup/a/b/memory.max":   file("2147483648\n"),
			"sys/fs/cgroup/a/memory.max":     file("1073741824\n"),
			"sys/fs/cgroup/a/b/memory.other": file("1\n"),
		}, 1 << 30},
		{"v1 in a container: the group is the mount's root", fstest.MapFS{
			"proc/self/cgroup":                           file("9:name=systemd:/\n4:memory:/process_api/ff71\n0::/\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("268435456\n"),
		}, 256 << 20},
		{"v1 unlimited", fstest.MapFS{
			"proc/self/cgroup":                           file("4:memory:/\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("9223372036854771712\n"),
		}, 0},
		{"garbage", fstest.MapFS{
			"proc/self/cgroup":         file("nonsense\n0::/\n"),
			"sys/fs/cgroup/memory.max": file("lots\n"),
		}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, cgroupMemoryLimit(c.fs))
		})
	}
}

func TestGuestMemoryBudget(t *testing.T) {
	machine := func() (int64, string) { return 16 << 30, "test" }
	for _, c := range []struct {
		name string
		cfg  Config
		want int64
	}{
		{"default", Config{}, 16 << 30 / 100 * DefaultGuestMemoryPercent},
		{"percent", Config{GuestMemoryPercent: 50}, 16 << 30 / 100 * 50},
		{"bytes", Config{MaxGuestMemory: 1 << 30, GuestMemoryPercent: 50}, 1 << 30},
		{"none", Config{MaxGuestMemory: -1}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := guestMemoryBudget(c.cfg, machine)
			assert.Equal(t, c.want, got)
		})
	}
	total, from := machineMemory()
	assert.Positive(t, total, from)
	t.Logf("this machine: %d bytes (%s)", total, from)
}
