//go:build !linux

package host

// ramSize returns 0: reading the physical memory is implemented for Linux
// only, and machineMemory assumes fallbackMachineMemory elsewhere.
func ramSize() uint64 { return 0 }
