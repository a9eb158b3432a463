package host

import "golang.org/x/sys/unix"

// ramSize returns the machine's physical memory in bytes, or 0.
func ramSize() uint64 {
	var info unix.Sysinfo_t
	if err := unix.Sysinfo(&info); err != nil {
		return 0
	}
	return uint64(info.Totalram) * uint64(info.Unit)
}
