package host

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental/sysfs"

	"github.com/wactor/wactor/host/internal/grantfs"
)

// DirGrant gives the guests of a type one folder of the host, as a WASI
// preopened directory. Every path a guest names in it is resolved beneath
// HostPath by the operating system (os.Root): no "..", symbolic link or
// hard link reaches a file outside (see host/internal/grantfs).
type DirGrant struct {
	// HostPath is the folder on this machine. It must exist.
	HostPath string
	// GuestPath is where the guest sees it: a clean absolute path such as
	// /data.
	GuestPath string
	// ReadOnly makes every write, create or delete under it fail.
	ReadOnly bool
}

// wasiGrants is what a type's guests may reach through WASI beyond the
// clocks and random numbers every guest gets: environment variables and
// folders. The zero value grants nothing.
type wasiGrants struct {
	env [][2]string // sorted by name
	// folders are the granted folders, each opened once for all the
	// type's instances; fs mounts them.
	folders []*grantfs.FS
	fs      wazero.FSConfig
}

// newWASIGrants checks the grants of tc and returns them in the form
// instantiate applies.
func newWASIGrants(tc *TypeConfig) (wasiGrants, error) {
	var g wasiGrants
	for name, value := range tc.Env {
		if name == "" || strings.ContainsAny(name, "=\x00") || strings.ContainsRune(value, 0) {
			return g, fmt.Errorf("environment variable %q: names must be non-empty without '=' or NUL, values without NUL", name)
		}
		g.env = append(g.env, [2]string{name, value})
	}
	sort.Slice(g.env, func(i, j int) bool { return g.env[i][0] < g.env[j][0] })
	seen := map[string]bool{}
	for _, d := range tc.Dirs {
		if !strings.HasPrefix(d.GuestPath, "/") || d.GuestPath == "/" || path.Clean(d.GuestPath) != d.GuestPath {
			return g, fmt.Errorf("folder %s: guest path %q must be a clean absolute path other than /", d.HostPath, d.GuestPath)
		}
		if seen[d.GuestPath] {
			return g, fmt.Errorf("guest path %s is granted twice", d.GuestPath)
		}
		seen[d.GuestPath] = true
		fi, err := os.Stat(d.HostPath)
		if err != nil {
			return g, fmt.Errorf("folder granted as %s: %w", d.GuestPath, err)
		}
		if !fi.IsDir() {
			return g, fmt.Errorf("%s, granted as %s, is not a folder", d.HostPath, d.GuestPath)
		}
	}
	if len(tc.Dirs) == 0 {
		return g, nil
	}
	// Every path a guest names is resolved beneath the folder by grantfs
	// (os.Root), not by wazero's folder mounts, which follow symbolic links
	// out of the folder.
	fsc := wazero.NewFSConfig()
	for _, d := range tc.Dirs {
		folder, err := grantfs.New(d.HostPath, d.ReadOnly)
		if err != nil {
			g.close()
			return wasiGrants{}, fmt.Errorf("folder granted as %s: %w", d.GuestPath, err)
		}
		g.folders = append(g.folders, folder)
		fsc = fsc.(sysfs.FSConfig).WithSysFSMount(folder, d.GuestPath)
	}
	g.fs = fsc
	return g, nil
}

// close releases the granted folders, once no instance uses them.
func (g wasiGrants) close() {
	for _, f := range g.folders {
		_ = f.Close()
	}
}

// apply adds the grants to a module configuration.
func (g wasiGrants) apply(cfg wazero.ModuleConfig) wazero.ModuleConfig {
	for _, kv := range g.env {
		cfg = cfg.WithEnv(kv[0], kv[1])
	}
	if g.fs != nil {
		cfg = cfg.WithFSConfig(g.fs)
	}
	return cfg
}
