#!/bin/sh
# Writes OUT, a copy of the manifest IN without the actor types whose
# module file does not exist, and names those on stderr. `make run` uses it
# so that a machine without the C or Rust toolchain still runs every
# example it could build. OUT must be in IN's folder: the paths in it stay
# relative to that folder.
#
#   scripts/built-manifest.sh examples/wactor.yaml examples/wactor.built.yaml
#
# It reads the layout examples/wactor.yaml keeps: under the top-level
# actors: key, each entry starts with "  - type: NAME" and has its
# "    module: PATH" line; comments, blank lines and top-level keys end an
# entry.
set -eu
if [ $# -ne 2 ]; then
	echo "usage: $0 IN OUT" >&2
	exit 2
fi
in=$1
out=$2
dir=$(dirname "$in")
if [ "$(cd "$(dirname "$out")" && pwd)" != "$(cd "$dir" && pwd)" ]; then
	echo "$0: $out must be in the folder of $in" >&2
	exit 2
fi

awk -v dir="$dir" -v src="$in" '
function flush() {
	if (entry == "") return
	path = module
	if (path !~ /^\//) path = dir "/" path
	if (module != "" && system("test -f \"" path "\"") == 0) {
		printf "%s", entry
	} else {
		skipped = skipped " " type
	}
	entry = ""; module = ""; type = ""
}
BEGIN { print "# Written by make run from " src ": its actor types whose module was"; print "# built. Edit " src ", not this file." }
/^[^ #]/ { flush(); actors = ($0 ~ /^actors:/) }
actors && /^  - type:/ {
	flush()
	type = $0; sub(/^  - type:[ ]*/, "", type); sub(/[ ]*#.*$/, "", type)
	entry = $0 "\n"
	next
}
entry != "" && /^    / {
	if ($0 ~ /^    module:/) { module = $0; sub(/^    module:[ ]*/, "", module); sub(/[ ]*#.*$/, "", module) }
	entry = entry $0 "\n"
	next
}
{ flush(); print }
END {
	flush()
	if (skipped != "") printf "make run: left out, for want of their module (see the build messages above):%s\n", skipped > "/dev/stderr"
}
' "$in" >"$out.tmp"
mv "$out.tmp" "$out"
