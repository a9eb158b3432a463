package wactor

// Reset forgets every registered handler and hook, so that each test can
// register its own actor.
func Reset() {
	handlers = map[string]HandlerFunc{}
	onActivate, onDeactivate = nil, nil
}

// ActivateHookAnswer is what the module's wactor_activate_hook returns.
func ActivateHookAnswer() uint32 { return activateHookAnswer() }
