package storagetest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/wactor/wactor/storage"
)

// checkLinks requires a page of set's links after after to be want, in
// order, values byte for byte.
func checkLinks(t *testing.T, s storage.Store, set, after string, limit int, want ...storage.Link) {
	t.Helper()
	got, err := s.Links(t.Context(), set, after, limit)
	if err != nil {
		t.Fatalf("Links(%q, %q, %d): %v", set, after, limit, err)
	}
	if len(got) != len(want) {
		t.Fatalf("Links(%q, %q, %d) = %d links %v, want %d %v", set, after, limit, len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].Set != set || got[i].Member != want[i].Member || !bytes.Equal(got[i].Value, want[i].Value) {
			t.Fatalf("Links(%q, %q, %d)[%d] = %+v, want %+v", set, after, limit, i, got[i], want[i])
		}
	}
}

func link(set, member, value string) storage.Link {
	return storage.Link{Set: set, Member: member, Value: []byte(value)}
}

// testLinks checks that links are added, replaced and removed with their
// batch, that sets are apart, and that a page is in member order.
func testLinks(t *testing.T, s storage.Store) {
	checkLinks(t, s, "w/a", "", 10)
	// Members with bytes that need escaping, and an empty value.
	commit(t, s, &storage.Batch{Links: []storage.Link{
		link("w/a", "x/2", "m2"), link("w/a", "x/1", "m1"), link("w/a", "x/0", ""),
		link("w/a", "ü.*> x", "odd"), link("w/b", "x/1", "other set"),
	}})
	checkLinks(t, s, "w/a", "", 10, link("w/a", "x/0", ""), link("w/a", "x/1", "m1"), link("w/a", "x/2", "m2"), link("w/a", "ü.*> x", "odd"))
	checkLinks(t, s, "w/b", "", 10, link("w/b", "x/1", "other set"))
	checkLinks(t, s, "w", "", 10) // a prefix of a set's name is another set
	checkLinks(t, s, "w/a/", "", 10)

	// A link again replaces its value; an unlink removes it; a link both
	// added and removed in one batch is removed; removing nothing is fine.
	commit(t, s, &storage.Batch{
		Links:   []storage.Link{link("w/a", "x/1", "new"), link("w/a", "x/3", "gone")},
		Unlinks: []storage.Link{{Set: "w/a", Member: "x/2"}, {Set: "w/a", Member: "x/3"}, {Set: "w/a", Member: "never"}},
	})
	checkLinks(t, s, "w/a", "", 10, link("w/a", "x/0", ""), link("w/a", "x/1", "new"), link("w/a", "ü.*> x", "odd"))
	checkLinks(t, s, "w/b", "", 10, link("w/b", "x/1", "other set"))
}

// testLinkPages checks paging through a set: every member once, in order,
// pages capped at storage.MaxLinkPage.
func testLinkPages(t *testing.T, s storage.Store) {
	const n = 25
	b := &storage.Batch{}
	var want []storage.Link
	for i := range n {
		l := link("topic/t", fmt.Sprintf("sub/%03d", i), fmt.Sprint(i))
		b.Links = append(b.Links, l)
		want = append(want, l)
	}
	commit(t, s, b)
	checkLinks(t, s, "topic/t", "", 10, want[:10]...)
	checkLinks(t, s, "topic/t", want[9].Member, 10, want[10:20]...)
	checkLinks(t, s, "topic/t", want[19].Member, 10, want[20:]...)
	checkLinks(t, s, "topic/t", want[n-1].Member, 10)
	checkLinks(t, s, "topic/t", "sub/0105", 3, want[11:14]...) // after a member that is not there
	checkLinks(t, s, "topic/t", "", 0, want[0])                // a limit below 1 reads one
	got, err := s.Links(t.Context(), "topic/t", "", storage.MaxLinkPage+5)
	if err != nil || len(got) != n {
		t.Fatalf("Links with a limit over the cap: %d links, %v", len(got), err)
	}
}

// testLinksAtomicWithBatch checks that links commit with the rest of a
// turn's batch, and not at all when the batch is refused.
func testLinksAtomicWithBatch(t *testing.T, s storage.Store) {
	const actor = "turn/l"
	commit(t, s, &storage.Batch{Actor: actor, Puts: puts("k", "v"), Links: []storage.Link{link("w/"+actor, "x/1", "")}})
	err := s.Commit(t.Context(), &storage.Batch{
		Actor: actor, Version: 0, Puts: puts("k", "lost"), // stale
		Links:   []storage.Link{link("w/"+actor, "x/2", "")},
		Unlinks: []storage.Link{{Set: "w/" + actor, Member: "x/1"}},
	})
	if err == nil {
		t.Fatal("a stale batch with links was applied")
	}
	checkLinks(t, s, "w/"+actor, "", 10, link("w/"+actor, "x/1", ""))
	checkSnapshot(t, s, actor, 1, puts("k", "v"))
}

// testLinksSurviveReopen checks that links are durable.
func testLinksSurviveReopen(t *testing.T, reopen func(t *testing.T) storage.Store) {
	s := reopen(t)
	commit(t, s, &storage.Batch{Links: []storage.Link{link("s", "a", "1"), link("s", "b", "2")}})
	commit(t, s, &storage.Batch{Unlinks: []storage.Link{{Set: "s", Member: "a"}}})
	closeStore(t, s)
	s = reopen(t)
	checkLinks(t, s, "s", "", 10, link("s", "b", "2"))
}
