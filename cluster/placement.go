package cluster

import (
	"hash/fnv"

	"github.com/wactor/wactor/abi"
)

// Placement names the node that should own an actor. The host asks it on
// every message to an actor it does not hold, and waits on Changed to
// hand over the activations another node now prefers.
type Placement interface {
	// Owner returns the preferred owner of ref among the active members,
	// and whether that is this node; "" when no member is active.
	Owner(ref abi.Ref) (node string, self bool)
	// Changed returns a channel closed at the next change of the active
	// members (a node became active, left or died). Call it again after
	// it closes for the change after that.
	Changed() <-chan struct{}
}

// Rendezvous returns the node of nodes with the highest weight for key
// (rendezvous, or highest random weight, hashing), or "" when nodes is
// empty. Every node that knows the same members picks the same one, and
// when a member joins or leaves only the keys it wins or held move.
func Rendezvous(key string, nodes []string) string {
	if len(nodes) == 0 {
		return ""
	}
	k := hashString(key)
	best, bestW := "", uint64(0)
	for _, n := range nodes {
		w := weight(k, hashString(n))
		if best == "" || w > bestW || w == bestW && n < best {
			best, bestW = n, w
		}
	}
	return best
}

// refKey is the key an actor is placed by.
func refKey(ref abi.Ref) string { return ref.Type + "/" + ref.ID }

// hashString is 64-bit FNV-1a: stable across processes and versions,
// which maphash is not.
func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// weight mixes the hashes of a key and a node into the node's weight for
// the key: FNV alone spreads similar names badly, so the combination goes
// through a 64-bit finaliser (splitmix64's) that makes every input bit
// affect every output bit.
func weight(key, node uint64) uint64 {
	z := key ^ (node * 0x9e3779b97f4a7c15)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
