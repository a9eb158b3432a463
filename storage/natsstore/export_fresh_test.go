package natsstore

// EpochSubject returns the subject of actor's lease epoch in s.
func EpochSubject(s *Store, actor string) string { return s.subject(kindEpoch, actor) }

// StateSubject returns the subject of actor's state key in s.
func StateSubject(s *Store, actor, key string) string { return s.subject(kindState, actor, key) }
