package linmem

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/tetratelabs/wazero/experimental"
)

// BenchmarkRestore compares the two ways a new memory can start from an
// initial content of n pages, none of them zero, of which the guest then
// writes w, spread evenly: copied into a fresh memory in a slot (what the
// host's snapshot restore does below its minImage), or mapped
// copy-on-write from an Image. Memories stay live, as activations do, in
// batches freed with the timer stopped, so that nearly every page written
// is one the process has not touched before. faults/op are the minor page
// faults per memory.
func BenchmarkRestore(b *testing.B) {
	for _, pages := range []int{4, 8, 16, 32, 64} {
		data := make([]byte, pages*int(pageSize))
		for i := range data {
			data[i] = byte(i%251 + 1)
		}
		for _, writes := range []int{3, pages / 4, pages / 2} {
			if writes < 3 {
				continue
			}
			for _, how := range []string{"copy", "map"} {
				b.Run(fmt.Sprintf("%s/n%d/w%d", how, pages, writes), func(b *testing.B) {
					benchRestore(b, data, writes, how == "map")
				})
			}
		}
	}
}

func benchRestore(b *testing.B, data []byte, writes int, mapped bool) {
	var img *Image
	if mapped {
		var err error
		if img, err = NewImage("bench", data); err != nil {
			b.Skip(err)
		}
		defer img.Close()
	}
	a := New(img)
	defer a.Close()
	size := (uint64(len(data)) + wasmPage - 1) / wasmPage * wasmPage
	pages := len(data) / int(pageSize)
	const batch = 512
	live := make([]experimental.LinearMemory, 0, batch)
	flt := minorFaults()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := a.Allocate(size, 64<<20)
		mem := m.Reallocate(size)
		if !mapped {
			copy(mem, data)
		}
		for w := range writes {
			mem[w*pages/writes*int(pageSize)+8]++
		}
		if live = append(live, m); len(live) == batch || i == b.N-1 {
			b.StopTimer()
			for _, m := range live {
				m.Free()
			}
			live = live[:0]
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(minorFaults()-flt)/float64(b.N), "faults/op")
}

// minorFaults returns the process's minor page faults so far.
func minorFaults() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Minflt
}
