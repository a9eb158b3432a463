package host_test

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

// A tell whose turn keeps failing is tried three times, then kept as a
// dead letter with its error; an actor's own error refusal is kept at once.
// Dead letters can be replayed and deleted, and are never lost meanwhile.
func TestDeadLetters(t *testing.T) {
	store := memstore.New()
	h := newHost(t, store, goType(t, "hostile"))
	ctx := context.Background()
	waitDead := func(n int) []storage.DeadLetter {
		t.Helper()
		var list []storage.DeadLetter
		require.Eventually(t, func() bool {
			var err error
			page, err := h.DeadLetters(ctx, "", host.MaxDeadLetterPage)
			require.NoError(t, err)
			list = page.Letters
			return len(list) == n
		}, 20*time.Second, 10*time.Millisecond)
		return list
	}

	require.NoError(t, h.Tell(ctx, abi.Ref{Type: "hostile", ID: "p"}, "panic", nil))
	list := waitDead(1)
	assert.Equal(t, "hostile/p", list[0].Message.Target)
	assert.Equal(t, "panic", list[0].Message.Method)
	assert.Equal(t, 3, list[0].Attempts)
	assert.Regexp(t, "^trapped: .", list[0].Error, `the error is "code: message"`)
	assert.Empty(t, list[0].Message.Sender, "a tell from outside the actors has no sender")

	require.NoError(t, h.Tell(ctx, abi.Ref{Type: "hostile", ID: "f"}, "fail_after_write", nil))
	list = waitDead(2)
	refused := list[1]
	assert.Equal(t, 1, refused.Attempts, "an actor's own refusal is not retried")
	assert.Equal(t, "refused: this actor refuses after writing", refused.Error, "the actor's own code, then its message")
	msgs, err := store.Outbox(ctx)
	require.NoError(t, err)
	assert.Empty(t, msgs, "dead letters leave the outbox")

	// Replay sends it again (it fails again, so it comes back as a new
	// dead letter); delete forgets one.
	require.NoError(t, h.ReplayDeadLetter(ctx, refused.Message.ID))
	list = waitDead(2)
	assert.NotEqual(t, refused.Message.ID, list[1].Message.ID, "the replay is a new message")
	require.NoError(t, h.DeleteDeadLetter(ctx, list[0].Message.ID))
	waitDead(1)
	assert.ErrorIs(t, h.DeleteDeadLetter(ctx, "nope"), abi.ErrBadRequest)
}

// capHost is newHost with a dead letter cap.
func capHost(t *testing.T, store storage.Store, limit storage.DeadLetterCap, types ...host.TypeConfig) *host.Host {
	t.Helper()
	return newHostConfig(t, host.Config{Store: store, MaxDeadLetters: limit.Count, MaxDeadLetterBytes: limit.Bytes}, types...)
}

// cborBytes returns a CBOR byte string of n bytes.
func cborBytes(n int) []byte {
	b := []byte{0x5a, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	return append(b, make([]byte, n)...)
}

// waitDeadStats waits until the host has kept or dropped n dead letters.
func waitDeadStats(t *testing.T, h *host.Host, n int) storage.DeadLetterStats {
	t.Helper()
	var st storage.DeadLetterStats
	require.Eventually(t, func() bool {
		var err error
		st, err = h.DeadLetterStats(context.Background())
		require.NoError(t, err)
		return uint64(st.Count)+st.Dropped >= uint64(n)
	}, 60*time.Second, 20*time.Millisecond)
	return st
}

// The attack of issue 12: a flood of failing tells of 0.9 MiB each. The
// dead letters kept stay within the cap (the oldest dropped and counted),
// and listing them reads small pages that a cursor follows.
func TestDeadLettersBounded(t *testing.T) {
	const tells, size = 100, 900 << 10
	limit := storage.DeadLetterCap{Count: 8, Bytes: 4 << 20} // the bytes bind first: 4 letters
	store := memstore.New()
	h := capHost(t, store, limit, goType(t, "hostile"))
	ctx := context.Background()
	payload := cborBytes(size)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range tells {
		ref := abi.Ref{Type: "hostile", ID: "flood" + strconv.Itoa(i%4)}
		require.NoError(t, h.Tell(ctx, ref, "fail_after_write", payload))
	}
	st := waitDeadStats(t, h, tells)
	assert.LessOrEqual(t, st.Count, limit.Count)
	assert.LessOrEqual(t, st.Bytes, limit.Bytes)
	assert.Equal(t, 4, st.Count, "as many as the byte cap holds")
	assert.EqualValues(t, tells-st.Count, st.Dropped, "every letter dropped is counted")
	msgs, err := store.Outbox(ctx)
	require.NoError(t, err)
	assert.Empty(t, msgs, "kept or dropped, the tells left the outbox")

	// Pages of 3 letters, payloads left out, a cursor to the next.
	var ids []string
	var total int64
	cursor := ""
	for range tells { // bounded: at most one page per letter
		page, err := h.DeadLetters(ctx, cursor, 3)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Letters), 3)
		for _, d := range page.Letters {
			ids = append(ids, d.Message.ID)
			assert.Nil(t, d.Message.Payload, "a large payload is left out of a listing")
			assert.Equal(t, len(payload), d.PayloadLen)
			total += d.Size()
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	assert.Len(t, ids, st.Count)
	assert.True(t, slices.IsSorted(ids), "pages in id order: %v", ids)
	assert.Equal(t, st.Bytes, total)
	whole, err := h.DeadLetter(ctx, ids[0])
	require.NoError(t, err)
	assert.Equal(t, payload, whole.Message.Payload, "one letter is read whole")

	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d failing tells of %d KiB: heap in use %d MiB before, %d MiB after; %d letters (%d KiB) kept, %d dropped",
		tells, size>>10, before.HeapInuse>>20, after.HeapInuse>>20, st.Count, st.Bytes>>10, st.Dropped)
}

// A letter larger than the whole byte cap is not kept, and pushes out no
// other.
func TestDeadLetterLargerThanCap(t *testing.T) {
	h := capHost(t, memstore.New(), storage.DeadLetterCap{Bytes: 512 << 10}, goType(t, "hostile"))
	ctx := context.Background()
	ref := abi.Ref{Type: "hostile", ID: "big"}
	require.NoError(t, h.Tell(ctx, ref, "fail_after_write", cborBytes(16)))
	waitDeadStats(t, h, 1)
	require.NoError(t, h.Tell(ctx, ref, "fail_after_write", cborBytes(600<<10)))
	require.Eventually(t, func() bool { // consumed from the outbox, not kept
		msgs, err := h.DeadLetters(ctx, "", 10)
		require.NoError(t, err)
		return len(msgs.Letters) == 1 && msgs.Letters[0].PayloadLen == 21
	}, 20*time.Second, 10*time.Millisecond)
	st, err := h.DeadLetterStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, storage.DeadLetterStats{Count: 1, Bytes: st.Bytes}, st)
}

func TestDeadLettersBadPageRequests(t *testing.T) {
	h := newHost(t, memstore.New())
	ctx := context.Background()
	for _, tt := range []struct {
		cursor string
		limit  int
		want   string
	}{
		{"", 0, "limit 0 is out of range"},
		{"", -1, "limit -1 is out of range"},
		{"", host.MaxDeadLetterPage + 1, "limit 1001 is out of range"},
		{"garbage", 10, `cursor "garbage" is not one a listing gave`},
		{"0000018F2C3A9E10", 10, "is not one a listing gave"},
		{"0000018f2c3a9e1", 10, "is not one a listing gave"},
	} {
		_, err := h.DeadLetters(ctx, tt.cursor, tt.limit)
		assert.ErrorIs(t, err, abi.ErrBadRequest, "cursor %q, limit %d", tt.cursor, tt.limit)
		assert.ErrorContains(t, err, tt.want)
	}
	// Ids of 16 hex digits (stored by an earlier version) and of 32 are
	// cursors.
	for _, cursor := range []string{"0000018f2c3a9e10", "0000018f2c3a9e104c1d7e2a9b03f658"} {
		page, err := h.DeadLetters(ctx, cursor, host.MaxDeadLetterPage)
		require.NoError(t, err)
		assert.Empty(t, page.Letters)
		assert.Empty(t, page.Next)
	}
	_, err := h.DeadLetter(ctx, "0000018f2c3a9e10")
	assert.ErrorIs(t, err, abi.ErrBadRequest)
}

// A cap lowered between two runs holds from the start of the second.
func TestDeadLetterCapAppliedAtStart(t *testing.T) {
	store := memstore.New()
	for i := range 5 {
		id := "000000000000000" + strconv.Itoa(i)
		require.NoError(t, store.Commit(context.Background(), &storage.Batch{DeadLetters: []storage.DeadLetter{{Message: storage.Message{ID: id, Target: "hostile/x", Method: "m"}}}}))
	}
	h := capHost(t, store, storage.DeadLetterCap{Count: 2})
	st, err := h.DeadLetterStats(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, st.Count)
	assert.EqualValues(t, 3, st.Dropped)
}

// Tells that trap are retried before they become dead letters; the cap
// holds for them too.
func TestDeadLettersBoundedAfterRetries(t *testing.T) {
	const tells = 10
	h := capHost(t, memstore.New(), storage.DeadLetterCap{Count: 2}, goType(t, "hostile"))
	ctx := context.Background()
	for i := range tells {
		require.NoError(t, h.Tell(ctx, abi.Ref{Type: "hostile", ID: "trap" + strconv.Itoa(i%2)}, "panic", cborBytes(900<<10)))
	}
	st := waitDeadStats(t, h, tells)
	assert.Equal(t, 2, st.Count)
	assert.EqualValues(t, tells-2, st.Dropped)
	page, err := h.DeadLetters(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Letters, 2)
	for _, d := range page.Letters {
		assert.Equal(t, 3, d.Attempts)
		assert.Contains(t, d.Error, "trapped")
	}
}
