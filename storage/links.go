package storage

import "slices"

// Link is a member of a durable set: the host keeps relations in them,
// such as "these actors watch that one" or "these actors subscribe to that
// topic". A set is named by Set and holds each Member (never "") at most
// once; Value
// is the host's own, kept as it is (the method a subscriber wants, say).
// The host bounds what goes into a set; a store only keeps it.
type Link struct {
	Set    string
	Member string
	Value  []byte
}

// MaxLinkPage is the most links one call of Store.Links returns, whatever
// limit it is given.
const MaxLinkPage = 1000

// LinkPage clamps the limit of a Links call to 1..MaxLinkPage.
func LinkPage(limit int) int { return min(max(limit, 1), MaxLinkPage) }

// mergeLinks applies next's link changes after b's: a change of next to a
// (Set, Member) replaces b's change to it.
func (b *Batch) mergeLinks(next *Batch) {
	if len(next.Links) == 0 && len(next.Unlinks) == 0 {
		return
	}
	type key struct{ set, member string }
	changed := make(map[key]bool, len(next.Links)+len(next.Unlinks))
	for _, l := range next.Links {
		changed[key{l.Set, l.Member}] = true
	}
	for _, l := range next.Unlinks {
		changed[key{l.Set, l.Member}] = true
	}
	gone := func(l Link) bool { return changed[key{l.Set, l.Member}] }
	b.Links = append(slices.DeleteFunc(b.Links, gone), next.Links...)
	b.Unlinks = append(slices.DeleteFunc(b.Unlinks, gone), next.Unlinks...)
}
