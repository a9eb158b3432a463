#!/bin/sh
# Runs the Rust SDK's unit and doc tests and the example actors' tests
# natively (no wasm, no host: a fake host in wactor::testing), offline.
#
#   guest-sdk/rust/test.sh
set -eu
. "$(dirname "$0")/env.sh"

cd "$sdk_dir"
"$cargo_bin" test --offline
cd "$examples_dir"
"$cargo_bin" test --offline --locked
