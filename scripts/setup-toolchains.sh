#!/bin/sh
# Installs the toolchains the tests need, when they are missing: clang,
# wasm-ld and wasi-libc for the C guests, wabt's wat2wasm for the guests
# written in WebAssembly text (host/reentry_hostile_test.go), Debian's rustc and cargo with the
# wasm32 standard library for the Rust guests, and Debian's Chromium (with
# chromium-driver) plus the npm packages of e2e/browser for the
# dashboard's browser test. Go and Node.js (with npm) are prerequisites it
# only checks. It installs with apt-get, as root or through sudo;
# otherwise it says what to run. Run it as often as you like: with
# everything present it changes nothing.
#
#   scripts/setup-toolchains.sh          (make test runs it first)
#   scripts/setup-toolchains.sh --check  (say what is missing; install nothing)
set -eu

check_only=false
[ "${1:-}" = "--check" ] && check_only=true

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Each check succeeds when the toolchain builds what the tests build.
c_ok() {
	command -v clang >/dev/null 2>&1 && command -v wasm-ld >/dev/null 2>&1 &&
		printf 'int wactor_probe(void) { return 0; }\n' >"$tmp/probe.c" &&
		clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 \
			-o "$tmp/probe.wasm" "$tmp/probe.c" >/dev/null 2>&1
}
# guest-sdk/rust/env.sh prefers Debian's rustc in /usr/bin (a rustup one
# earlier in PATH may lack the wasm32 std).
rustc_bin() { if [ -x /usr/bin/rustc ]; then echo /usr/bin/rustc; else echo rustc; fi; }
rust_ok() {
	rustc=$(rustc_bin)
	command -v "$rustc" >/dev/null 2>&1 && { [ -x /usr/bin/cargo ] || command -v cargo >/dev/null 2>&1; } &&
		[ -d "$("$rustc" --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]
}

# wabt's wat2wasm builds the hostile guests written in WebAssembly text.
wat_ok() { command -v wat2wasm >/dev/null 2>&1; }

# Debian's Chromium; e2e/dashboard_test.go drives /usr/bin/chromium.
chromium_ok() { [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1; }

# The browser test's npm packages (playwright-core, which downloads no
# browser), installed from e2e/browser/package-lock.json when absent or
# of another version than the lock file names.
repo=$(cd "$(dirname "$0")/.." && pwd)
browser_dir="$repo/e2e/browser"
npm_ok() {
	want=$(sed -n '/"node_modules\/playwright-core"/,/}/s/.*"version": *"\([^"]*\)".*/\1/p' "$browser_dir/package-lock.json" | head -n 1)
	have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$browser_dir/node_modules/playwright-core/package.json" 2>/dev/null | head -n 1)
	[ -n "$want" ] && [ "$want" = "$have" ]
}
npm_deps() {
	npm_ok && return 0
	if $check_only; then
		echo "setup-toolchains: the browser test's npm packages are missing: run (cd e2e/browser && npm ci)" >&2
		return 1
	fi
	echo "setup-toolchains: npm ci in e2e/browser (the browser test's playwright-core)"
	(cd "$browser_dir" && npm ci --no-audit --no-fund)
}

missing=""
c_ok || missing="$missing C"
wat_ok || missing="$missing wabt"
rust_ok || missing="$missing Rust"
chromium_ok || missing="$missing Chromium"
prereq=""
command -v go >/dev/null 2>&1 || prereq="$prereq Go (https://go.dev/dl)"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || prereq="$prereq Node.js-with-npm (https://nodejs.org)"
if [ -n "$prereq" ]; then
	echo "setup-toolchains: install these first:$prereq" >&2
	exit 1
fi
if [ -z "$missing" ]; then
	echo "setup-toolchains: the C and Rust guest toolchains, wabt and Chromium are present"
	npm_deps
	exit $?
fi

# The Debian packages: clang's runtime for wasm32 is versioned like clang
# (libclang-rt-14-dev-wasm32 with clang 14).
packages="clang lld wasi-libc wabt rustc cargo libstd-rust-dev-wasm32 chromium chromium-driver"
rt_package() {
	major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n 1)
	[ -n "$major" ] && echo "libclang-rt-$major-dev-wasm32"
}
hint="apt-get install -y $packages libclang-rt-<clang's major version>-dev-wasm32"
if command -v clang >/dev/null 2>&1; then
	hint="apt-get install -y $packages $(rt_package)"
fi

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo="sudo"
else
	sudo="none"
fi
if $check_only || [ "$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "setup-toolchains: missing the toolchains of:$missing." >&2
	if command -v apt-get >/dev/null 2>&1; then
		echo "Install them as root (or rerun this script with sudo rights):" >&2
		echo "  sudo $hint" >&2
	else
		echo "This system has no apt-get: install clang and wasm-ld with a wasm32-wasi sysroot at /usr," >&2
		echo "rustc and cargo with the wasm32-unknown-unknown standard library, and Chromium at /usr/bin/chromium." >&2
	fi
	exit 1
fi

echo "setup-toolchains: installing the toolchains of:$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q $packages
$sudo apt-get install -y -q "$(rt_package)"
c_ok || { echo "setup-toolchains: clang still cannot build for wasm32-wasi" >&2; exit 1; }
rust_ok || { echo "setup-toolchains: rustc still has no wasm32 standard library" >&2; exit 1; }
chromium_ok || { echo "setup-toolchains: /usr/bin/chromium still does not run" >&2; exit 1; }
npm_deps
echo "setup-toolchains: done"
