package gateway

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestByteBudget: shares are taken while they fit and wait otherwise; a
// share larger than the budget takes all of it; a release wakes those
// waiting.
func TestByteBudget(t *testing.T) {
	b := newByteBudget(100)
	a := b.acquire(60)
	assert.Equal(t, 60, a)
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		got.Store(int64(b.acquire(1000))) // all of it, once all is free
	}()
	c := b.acquire(40)
	select {
	case <-done:
		t.Fatal("a share larger than the budget was taken while 100 of 100 bytes were out")
	case <-time.After(50 * time.Millisecond):
	}
	b.release(a)
	select {
	case <-done:
		t.Fatal("a share of the whole budget was taken while 40 bytes were out")
	case <-time.After(50 * time.Millisecond):
	}
	b.release(c)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the release did not wake the share waiting")
	}
	assert.Equal(t, int64(100), got.Load())
	b.release(100)
	assert.Equal(t, 100, b.free)
}

// TestSlowConversionsShareTheBudget: a reply that takes the general path
// holds a share of slowConversions as large as itself while it converts,
// and gives it back whether it converts or fails, so that at most the
// budget's size of replies is being decoded into Go values at once across
// requests. Here the budget holds one large reply: the others wait.
func TestSlowConversionsShareTheBudget(t *testing.T) {
	float := []byte{0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0} // 1.5: not the quick path's
	// A large reply of empty maps and one float, which the general path
	// decodes into a map per byte, and one that is not CBOR.
	big := append(append([]byte{0x9a, 0, 0x08, 0, 0x01}, bytes.Repeat([]byte{0xa0}, 0x80000)...), float...)
	bad := []byte{0x9f, 0xfb, 0x00}
	saved := slowConversions
	slowConversions = newByteBudget(len(big) + len(bad))
	t.Cleanup(func() { slowConversions = saved })

	var peak atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // sample what is taken while the conversions run
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			slowConversions.mu.Lock()
			out := int64(slowConversions.size - slowConversions.free)
			slowConversions.mu.Unlock()
			if out > peak.Load() {
				peak.Store(out)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	var conv sync.WaitGroup
	for i := range 8 {
		conv.Add(1)
		go func() {
			defer conv.Done()
			if i%2 == 0 {
				out, err := cborToJSON(big)
				if assert.NoError(t, err) {
					assert.True(t, bytes.HasSuffix(out, []byte("{},1.5]")))
				}
			} else {
				_, err := cborToJSON(bad)
				assert.Error(t, err)
			}
		}()
	}
	conv.Wait()
	close(stop)
	wg.Wait()
	require.Equal(t, slowConversions.size, slowConversions.free, "every share given back")
	assert.GreaterOrEqual(t, peak.Load(), int64(len(big)), "a large reply took a share of its size")
}
