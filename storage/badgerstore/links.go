package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/wactor/wactor/storage"
)

// linkKey returns the key of a link: kindLink, uvarint(len(set)), set,
// member. With member "" it is the prefix of all of set's links, which
// sort by member.
func linkKey(set, member string) []byte {
	k := make([]byte, 0, 1+binary.MaxVarintLen64+len(set)+len(member))
	return actorName(append(k, kindLink), set, member)
}

// addLinks adds b's link changes to txn: its links, then its unlinks.
func addLinks(txn *badger.Txn, b *storage.Batch) error {
	for _, l := range b.Links {
		if err := txn.Set(linkKey(l.Set, l.Member), l.Value); err != nil {
			return err
		}
	}
	for _, l := range b.Unlinks {
		if err := txn.Delete(linkKey(l.Set, l.Member)); err != nil {
			return err
		}
	}
	return nil
}

// Links reads a page of set's links from the first key after after's.
func (s *Store) Links(ctx context.Context, set, after string, limit int) ([]storage.Link, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	limit = storage.LinkPage(limit)
	var page []storage.Link
	err = s.db.View(func(txn *badger.Txn) error {
		prefix := linkKey(set, "")
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		opts.PrefetchSize = min(limit, opts.PrefetchSize)
		it := txn.NewIterator(opts)
		defer it.Close()
		start := linkKey(set, after)
		for it.Seek(start); it.Valid() && len(page) < limit; it.Next() {
			item := it.Item()
			if after != "" && bytes.Equal(item.Key(), start) {
				continue
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			page = append(page, storage.Link{Set: set, Member: string(item.Key()[len(prefix):]), Value: v})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: links of %q: %w", set, err)
	}
	return page, nil
}
