package abi

// TraceparentLen is the length of a W3C traceparent value of version 00:
// "00-" 32 hex digits of trace id "-" 16 of parent span id "-" 2 of flags.
const TraceparentLen = 55

// ValidTraceparent reports whether s is a W3C traceparent of version 00
// (https://www.w3.org/TR/trace-context/#traceparent-header) with lower-case
// hex digits and a trace id and span id that are not all zeros: the only
// form the trace field of an envelope, an outbox message or a reminder
// holds.
func ValidTraceparent(s string) bool {
	if len(s) != TraceparentLen || s[0] != '0' || s[1] != '0' || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return false
	}
	return hexRun(s[3:35]) && hexRun(s[36:52]) && hexRun(s[53:55]) &&
		!allZero(s[3:35]) && !allZero(s[36:52])
}

func hexRun(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
