package cluster_test

import (
	"fmt"

	"github.com/wactor/wactor/cluster"
)

// Every node that knows the same members names the same owner, whatever
// the order of its list; a member leaving moves only its own actors.
func ExampleRendezvous() {
	members := []string{"n1", "n2", "n3"}
	for _, ref := range []string{"counter/a", "counter/b", "bank/alice"} {
		fmt.Println(ref, "->", cluster.Rendezvous(ref, members))
	}
	fmt.Println("without n2:", cluster.Rendezvous("counter/a", []string{"n1", "n3"}), cluster.Rendezvous("counter/b", []string{"n3", "n1"}))
	// Output:
	// counter/a -> n1
	// counter/b -> n2
	// bank/alice -> n3
	// without n2: n1 n1
}
