#!/usr/bin/env bash
# Cross-target type check (docs/windows.md, issue 12): the module compiles for the platforms we
# ship but never build here: x86_64-pc-windows-msvc, x86_64-apple-darwin, aarch64-apple-darwin
# and aarch64-unknown-linux-gnu, each with the lua54 and luajit flavours: clippy -D warnings on
# the library, which fails on every error `cargo check` reports too, so a separate check would
# only type-check the same code twice (where rust-web-clippy is missing, `cargo check` runs
# instead). x86_64-pc-windows-gnu, the fifth, is built for real and run by the Wine suite.
# One cargo invocation per flavour covers every target, so the targets' std and dependency
# checks run side by side instead of each waiting for the last one's slowest crate.
#
# rustup here has only the host's std, so this uses Debian's rustc-web (ci/rustc-web.sh) and
# -Zbuild-std: std is type-checked from source, once per target whatever the flavour (same
# target dir, same std features). Without `vendored` mlua-sys compiles no C, so no target C
# compiler or SDK is needed. target/cross is its own target dir: another rustc would
# invalidate the main build's artifacts.
# Time on 2 cores: see docs/windows.md. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export CARGO_TERM_COLOR=never

# shellcheck source=ci/suite-lib.sh
source ci/suite-lib.sh
finish() {
  suite_summary cross
  exit
}

# shellcheck source=ci/rustc-web.sh
. ci/rustc-web.sh
# shellcheck disable=SC2119 # no extra packages
if ! rustc_web_setup; then
  ko "Debian rustc-web toolchain"
  finish
fi
export CARGO_TARGET_DIR=$PWD/target/cross
have_clippy=false
if [ -x /usr/bin/cargo-clippy ] && [ -x /usr/bin/clippy-driver ]; then have_clippy=true; fi

targets=(x86_64-pc-windows-msvc x86_64-apple-darwin aarch64-apple-darwin aarch64-unknown-linux-gnu)
flavours=(lua54 luajit)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# A warning fails a check too: cargo caps the lints of std and of dependencies, so every
# warning left is about our code or our manifest.
run() { # run NAME COMMAND...
  local name=$1 start status
  shift
  start=$(date +%s)
  "$@" >"$log" 2>&1
  status=$?
  if [ "$status" -eq 0 ] && ! grep -qE '^(warning|error)(\[|:)' "$log"; then
    ok "$name ($(($(date +%s) - start)) s)"
  else
    grep -vE '^\s+(Compiling|Checking|Blocking|Updating|Downloaded|Downloading)' "$log" | tail -60
    ko "$name"
  fi
}

for flavour in "${flavours[@]}"; do
  args=(--locked "-Zbuild-std=std,panic_abort" --lib --no-default-features --features "$flavour,module")
  for target in "${targets[@]}"; do args+=(--target "$target"); done
  if $have_clippy; then
    run "clippy $flavour: ${targets[*]}" /usr/bin/cargo-clippy clippy "${args[@]}" -- -D warnings
  else
    run "check $flavour: ${targets[*]}" /usr/bin/cargo check "${args[@]}"
  fi
done
if ! $have_clippy; then echo "note: rust-web-clippy is not installed; only cargo check ran"; fi
finish
