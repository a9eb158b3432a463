package manifest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a number of bytes.
type Size int64

// Size units. KB, MB and GB are powers of 1000; KiB, MiB and GiB are powers
// of 1024.
const (
	KB  Size = 1000
	MB  Size = 1000 * KB
	GB  Size = 1000 * MB
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
)

// units lists the size suffixes in the order they are tried and shown.
var units = []struct {
	name string
	size Size
}{
	{"KiB", KiB}, {"MiB", MiB}, {"GiB", GiB},
	{"KB", KB}, {"MB", MB}, {"GB", GB},
	{"B", 1},
}

// unitList is shown when a size has an unknown unit.
const unitList = "B, KiB, MiB, GiB (powers of 1024) or KB, MB, GB (powers of 1000)"

// ParseSize parses a size: a whole number of bytes, optionally followed by
// one unit, with or without a space: "512", "512B", "64KiB", "16 MiB",
// "1GiB", "10MB". Units are case-sensitive; KB, MB and GB are powers of
// 1000 and KiB, MiB and GiB powers of 1024. Negative and fractional sizes
// are refused.
func ParseSize(s string) (Size, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q is not a size; write a whole number of bytes with an optional unit, e.g. 512, 64KiB, 16MiB", s)
	}
	num, unit := s[:i], s[i:]
	if strings.HasPrefix(unit, ".") || strings.HasPrefix(unit, ",") {
		return 0, fmt.Errorf("%q is not a whole number; use a smaller unit instead of a fraction, e.g. 1536MiB for 1.5GiB", s)
	}
	unit = strings.TrimPrefix(unit, " ")
	mult := Size(1)
	if unit != "" {
		found := false
		for _, u := range units {
			if u.name == unit {
				mult, found = u.size, true
				break
			}
		}
		if !found {
			hint := ""
			for _, u := range units {
				if strings.EqualFold(u.name, unit) {
					hint = fmt.Sprintf(" (units are case-sensitive: did you mean %s%s?)", num, u.name)
					break
				}
			}
			return 0, fmt.Errorf("%q has an unknown unit %q%s; use %s", s, unit, hint, unitList)
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/int64(mult) {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Size(n) * mult, nil
}

// String formats s with the largest binary unit that divides it exactly:
// 16MiB, 1536KiB, 1000B.
func (s Size) String() string {
	switch {
	case s != 0 && s%GiB == 0:
		return strconv.FormatInt(int64(s/GiB), 10) + "GiB"
	case s != 0 && s%MiB == 0:
		return strconv.FormatInt(int64(s/MiB), 10) + "MiB"
	case s != 0 && s%KiB == 0:
		return strconv.FormatInt(int64(s/KiB), 10) + "KiB"
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}
