package cluster

// kill stops the node as a crash would: no leaving state, no deletion of
// its entry; its embedded server stops.
func (n *Node) kill() {
	n.mu.Lock()
	n.closed = true
	cancel := n.cancel
	n.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	n.wg.Wait()
	n.tr.cancel()
	n.shutdown()
	n.members.waitStops()
	n.tr.wg.Wait()
}
