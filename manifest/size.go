package manifest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
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
		return 0, fmt.Errorf("%s is not a size; write a whole number of bytes with an optional unit, e.g. 512, 64KiB, 16MiB", quote(s))
	}
	num, unit := s[:i], s[i:]
	if strings.HasPrefix(unit, ".") || strings.HasPrefix(unit, ",") {
		return 0, fmt.Errorf("%s is not a whole number; use a smaller unit instead of a fraction, e.g. 1536MiB for 1.5GiB", quote(s))
	}
	if unit == " " {
		return 0, fmt.Errorf("%s ends with a space; remove it", quote(s))
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
			fix := "use " + unitList
			switch l := strings.ToLower(unit); l {
			case "k", "m", "g", "kb", "mb", "gb":
				p := strings.ToUpper(l[:1])
				fix = fmt.Sprintf("units are case-sensitive: did you mean %s%sB (powers of 1000) or %s%siB (powers of 1024)?", num, p, num, p)
			case "ki", "mi", "gi", "kib", "mib", "gib":
				fix = fmt.Sprintf("units are case-sensitive: did you mean %s%siB?", num, strings.ToUpper(l[:1]))
			case "b", "byte", "bytes":
				fix = fmt.Sprintf("did you mean %sB?", num)
			}
			return 0, fmt.Errorf("%s has an unknown unit %s; %s", quote(s), quote(unit), fix)
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/int64(mult) {
		return 0, fmt.Errorf("%s is too large", quote(s))
	}
	return Size(n) * mult, nil
}

// quote quotes s for a message, cut to its first 40 characters.
func quote(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) <= limit {
		return strconv.Quote(s)
	}
	return strconv.Quote(string([]rune(s)[:limit])) + "…"
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
