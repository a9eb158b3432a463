#!/bin/sh
# Builds the Rust example actors for wasm32-unknown-unknown (release, offline)
# and copies them to OUTDIR as counter-rust.wasm, greeter-rust.wasm,
# pingpong-rust.wasm and conformance-rust.wasm (the ABI conformance actor,
# see docs/conformance.md).
#
#   guest-sdk/rust/build.sh OUTDIR
#
# Cargo writes only to guest-sdk/rust/target (its CARGO_HOME included).
set -eu
if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
. "$(dirname "$0")/env.sh"

sysroot=$("$RUSTC" --print sysroot)
if [ ! -d "$sysroot/lib/rustlib/wasm32-unknown-unknown" ]; then
	echo "wactor rust sdk: $RUSTC has no wasm32-unknown-unknown standard library; install it with" >&2
	echo "  apt-get install -y rustc cargo libstd-rust-dev-wasm32" >&2
	exit 1
fi

mkdir -p "$1"
out=$(cd "$1" && pwd)
cd "$examples_dir"
"$cargo_bin" build --offline --locked --release --target wasm32-unknown-unknown
for a in counter greeter pingpong conformance; do
	cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/$a.wasm" "$out/$a-rust.wasm"
done
