package wactor

// Reset forgets every registered handler and hook, so that each test can
// register its own actor.
func Reset() {
	handlers = map[string]HandlerFunc{}
	onActivate, onDeactivate = nil, nil
}
