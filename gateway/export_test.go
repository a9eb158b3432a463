package gateway

import "time"

// PublicPatterns returns every pattern g serves, true for those open to
// every client and false for those that need the token.
func PublicPatterns(g *Gateway) map[string]bool {
	out := make(map[string]bool, len(g.patterns))
	for p, a := range g.patterns {
		out[p] = a == public
	}
	return out
}

// SetFollowWriteTimeout sets how long one write to a follower of a topic
// may take (followWriteTimeout by default).
func SetFollowWriteTimeout(g *Gateway, d time.Duration) { g.followWriteTimeout = d }
