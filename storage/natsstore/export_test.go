package natsstore

// Groups returns how many batches s's senders sent and how many commits
// they held.
func Groups(s *Store) (batches, commits uint64) { return s.groups.Load(), s.grouped.Load() }
