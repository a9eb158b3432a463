package manifest

import (
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// GuestMemory is a memory budget: a number of bytes, or a percentage of
// the machine's memory. Exactly one of its fields is set.
type GuestMemory struct {
	// Bytes is the budget in bytes, or 0 when it is a percentage.
	Bytes Size
	// Percent is the budget in percent of the machine's memory (its
	// cgroup's limit in a container), from 1 to 100, or 0 when it is a
	// number of bytes.
	Percent int
}

// String formats g as the manifest writes it: 25% or 2GiB.
func (g GuestMemory) String() string {
	if g.Percent > 0 {
		return strconv.Itoa(g.Percent) + "%"
	}
	return g.Bytes.String()
}

// guestMemory reads a memory budget: a percentage such as 25%, or a size.
func (d *decoder) guestMemory(v ast.Node, path string, g *GuestMemory) {
	n, site, ok := d.value(v, path)
	if !ok {
		return
	}
	if s, isStr := n.(*ast.StringNode); isStr && strings.HasSuffix(s.Value, "%") {
		num := strings.TrimSuffix(s.Value, "%")
		pct, err := strconv.Atoi(num)
		if !isDigits(num) || err != nil || pct < 1 || pct > 100 {
			d.errAt(site, path, "%s is not a whole percentage from 1%% to 100%%; write e.g. 25%%, or a size such as 2GiB", quote(s.Value))
			return
		}
		*g = GuestMemory{Percent: pct}
		return
	}
	if size, ok := d.size(v, path, MinGuestMemory, MaxGuestMemoryLimit); ok {
		*g = GuestMemory{Bytes: size}
	}
}
