#!/bin/sh
# Builds the AssemblyScript example actors (examples/wasm/assemblyscript/*)
# into OUTDIR as NAME-as.wasm:
#
#   guest-sdk/assemblyscript/build.sh OUTDIR
#
# Installs the compiler with `npm ci` first if it is missing (the npm
# registry must be reachable then). Relative OUTDIRs are taken from the
# directory the command was started in (npm's INIT_CWD under `npm run`).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
start=${INIT_CWD:-$PWD}
case $1 in
/*) out=$1 ;;
*) out=$start/$1 ;;
esac

sdk=$(cd "$(dirname "$0")" && pwd)
examples=$(cd "$sdk/../../examples/wasm/assemblyscript" && pwd)
cd "$sdk"

if [ ! -x node_modules/.bin/asc ]; then
	echo "build.sh: installing the AssemblyScript compiler (npm ci)" >&2
	npm ci --no-audit --no-fund --loglevel=error
fi
# The examples import "@wactor/sdk" as an actor's own project would; asc
# finds packages in node_modules, so the SDK is linked into its own.
mkdir -p node_modules/@wactor
ln -sfn ../.. node_modules/@wactor/sdk

mkdir -p "$out"
for dir in "$examples"/*/; do
	name=$(basename "$dir")
	[ -f "$dir/index.ts" ] || continue
	echo "asc $name -> $out/$name-as.wasm"
	node_modules/.bin/asc "$dir/index.ts" --config asconfig.json --target release \
		-o "$out/$name-as.wasm"
done
