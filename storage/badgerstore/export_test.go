package badgerstore

// TablesBelowL0 returns how many of s's tables are in levels below level
// 0, where only compactions put them.
func TablesBelowL0(s *Store) int {
	n := 0
	for _, l := range s.db.Levels() {
		if l.Level > 0 {
			n += l.NumTables
		}
	}
	return n
}
