package natsstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wactor/wactor/storage"
)

// Links reads every link of set (one subject each, WACTOR.n.<set>.*),
// sorts them by member and returns the page after after: JetStream keeps
// no order among subjects.
func (s *Store) Links(ctx context.Context, set, after string, limit int) ([]storage.Link, error) {
	done, err := s.using(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	msgs, err := s.lastForOrScan(ctx, s.subject(kindLink, set)+".*")
	if err != nil {
		return nil, fmt.Errorf("natsstore: links of %q: %w", set, err)
	}
	all := make([]storage.Link, 0, len(msgs))
	for _, m := range msgs {
		member, err := lastToken(m.Subject)
		if err != nil {
			return nil, fmt.Errorf("natsstore: links of %q: %w (subject %s)", set, err, m.Subject)
		}
		if member > after {
			all = append(all, storage.Link{Set: set, Member: member, Value: append([]byte{}, m.Data...)})
		}
	}
	slices.SortFunc(all, func(a, b storage.Link) int { return strings.Compare(a.Member, b.Member) })
	return all[:min(len(all), storage.LinkPage(limit))], nil
}
