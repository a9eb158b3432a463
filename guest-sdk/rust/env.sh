# Sourced by build.sh and test.sh: picks the Rust toolchain that has the
# wasm32 standard library and keeps everything cargo writes inside
# guest-sdk/rust/target.
#
# Debian's rustc has the wasm32 std (apt-get install rustc cargo
# libstd-rust-dev-wasm32); a rustup toolchain earlier in PATH may not, so
# /usr/bin is preferred. Override with WACTOR_CARGO, WACTOR_RUSTC and
# WACTOR_RUSTDOC.

sdk_dir=$(cd "$(dirname "$0")" && pwd)
repo_dir=$(cd "$sdk_dir/../.." && pwd)
examples_dir=$repo_dir/examples/wasm/rust

pick() { # pick VAR_VALUE /usr/bin/NAME NAME
	if [ -n "$1" ]; then echo "$1"; elif [ -x "$2" ]; then echo "$2"; else echo "$3"; fi
}
cargo_bin=$(pick "${WACTOR_CARGO:-}" /usr/bin/cargo cargo)
RUSTC=$(pick "${WACTOR_RUSTC:-}" /usr/bin/rustc rustc)
RUSTDOC=$(pick "${WACTOR_RUSTDOC:-}" /usr/bin/rustdoc rustdoc)
export RUSTC RUSTDOC

export CARGO_HOME="$sdk_dir/target/cargo-home"
export CARGO_TARGET_DIR="$sdk_dir/target"
# The examples' .cargo/config.toml sets the wasm link flags; RUSTFLAGS in
# the environment, even empty, would replace them.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_TARGET

if ! command -v "$cargo_bin" >/dev/null 2>&1 || ! command -v "$RUSTC" >/dev/null 2>&1; then
	echo "wactor rust sdk: no cargo/rustc; install them with" >&2
	echo "  apt-get install -y rustc cargo libstd-rust-dev-wasm32" >&2
	exit 1
fi
