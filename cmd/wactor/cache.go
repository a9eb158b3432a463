package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/wactor/wactor/host"
)

// cacheFlags are the flags of "wactor cache": they name the compile cache
// folder the way run finds it.
type cacheFlags struct {
	file     string
	dataDir  string
	cacheDir string
}

func setupCache(fs *flag.FlagSet) runner {
	f := new(cacheFlags)
	fs.StringVar(&f.file, "f", "wactor.yaml", "the manifest `FILE` whose cache folder to use")
	fs.StringVar(&f.dataDir, "data-dir", "", "the data folder `DIR`, as given to wactor run")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "the cache folder `DIR`, as given to wactor run (the manifest is then not read)")
	return f.run
}

func (f *cacheFlags) run(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || (args[0] != "info" && args[0] != "clean") {
		return usageError(stderr, "cache", "cache takes info or clean, as in: wactor cache info -f wactor.yaml")
	}
	dir := f.cacheDir
	if dir == "" {
		m, err := loadManifest(f.file, stderr)
		if err != nil {
			return exitUsage
		}
		if err := checkDataDir(m, f.dataDir); err != nil {
			return usageError(stderr, "cache", "%v", err)
		}
		if dir = cacheFolder(m, f.dataDir, ""); dir == "" {
			fmt.Fprintln(stderr, "wactor: this system has no user cache folder; wactor run keeps compiled modules in memory only")
			return exitFail
		}
	}
	if args[0] == "info" {
		u, err := host.InspectCache(dir)
		fmt.Fprintf(stdout, "folder:  %s\nmodules: %d\nsize:    %s\n", dir, u.Entries, formatBytes(u.Bytes))
		if err != nil {
			fmt.Fprintf(stderr, "wactor: reading %s: %v\n", dir, err)
			return exitFail
		}
		return exitOK
	}
	u, err := host.CleanCache(dir)
	fmt.Fprintf(stdout, "deleted %d compiled modules (%s) from %s\n", u.Entries, formatBytes(u.Bytes), dir)
	if err != nil {
		fmt.Fprintf(stderr, "wactor: cleaning %s: %v\n", dir, err)
		return exitFail
	}
	return exitOK
}

// formatBytes writes n in binary units, as the manifest's sizes are.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n)/unit, "KiB"
	for _, next := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, u = v/unit, next
	}
	return fmt.Sprintf("%.1f %s", v, u)
}
