#!/usr/bin/env bash
# THIRD-PARTY-LICENSES.txt (shipped in every release archive, dist-workspace.toml `include`):
# the licences of the crates linked into the release libraries, generated from Cargo.lock by
# cargo-about (settings and template: dist/about.toml, dist/about.hbs) and committed.
#   bash ci/dist-licenses.sh                 regenerate it (run after changing dependencies)
#   bash ci/dist-licenses.sh --check-crates  its crate list has every crate, at its version,
#                                            that `cargo tree` says the release libraries link
#                                            (seconds, no cargo-about: the dist suite runs it)
#   bash ci/dist-licenses.sh --check         regenerate and compare byte for byte (needs
#                                            cargo-about; test.yml's lint job runs it)
# cargo-about is not installed by CI here: building it takes 10-16 minutes on 2 busy cores.
# Install: cargo install cargo-about --locked --version 0.9.3 --features cli
set -euo pipefail
cd "$(dirname "$0")/.."
ABOUT_VERSION=0.9.3
TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc)
export PATH=$HOME/.cargo/bin:$PATH
mode=${1:-}

if [ "$mode" = --check-crates ]; then
  # The flavour packages all link the same crates; lua54's stands for all six. Every crate
  # `cargo tree` says they link on the five targets (workspace crates aside) must be listed at
  # its exact version. Listing more is harmless (cargo-about's target filter keeps e.g.
  # windows_x86_64_gnu); a removed crate is caught by --check.
  targets=()
  for t in "${TARGETS[@]}"; do targets+=(--target "$t"); done
  linked=$(cargo tree --locked --offline -q -p module-enet-lua54 -e normal "${targets[@]}" --prefix none --format '{p}' \
    | grep -v ' (/' | sed 's/ v\([^ ]*\).*/ \1/' | sort -u)
  listed=$(sed -n 's/^  \([^ ]*\) \([^ ]*\) (.*)$/\1 \2/p' THIRD-PARTY-LICENSES.txt | sort -u)
  missing=$(comm -23 <(printf '%s\n' "$linked") <(printf '%s\n' "$listed"))
  if [ -n "$missing" ]; then
    echo "dist-licenses: THIRD-PARTY-LICENSES.txt lacks linked crates (run bash ci/dist-licenses.sh):" >&2
    while IFS= read -r line; do [ -n "$line" ] && echo "  $line" >&2; done <<<"$missing"
    exit 1
  fi
  echo "dist-licenses: THIRD-PARTY-LICENSES.txt lists all $(printf '%s\n' "$linked" | wc -l) crates the libraries link"
  exit 0
fi

if ! cargo about --version 2>/dev/null | grep -q "$ABOUT_VERSION"; then
  echo "installing cargo-about $ABOUT_VERSION with cargo (10-16 minutes on 2 cores)"
  cargo install cargo-about --locked --version "$ABOUT_VERSION" --features cli >/dev/null
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# --offline: licence texts come from the crates' own files (same result here and on GitHub).
cargo about generate --locked --offline -c dist/about.toml -m dist/lua54/Cargo.toml dist/about.hbs -o "$out"
if [ "$mode" = --check ]; then
  if cmp -s "$out" THIRD-PARTY-LICENSES.txt; then
    echo "dist-licenses: THIRD-PARTY-LICENSES.txt is up to date"
  else
    echo "dist-licenses: THIRD-PARTY-LICENSES.txt is stale (run bash ci/dist-licenses.sh)" >&2
    diff -u THIRD-PARTY-LICENSES.txt "$out" | head -40 >&2 || true
    exit 1
  fi
else
  cp "$out" THIRD-PARTY-LICENSES.txt
  echo "dist-licenses: wrote THIRD-PARTY-LICENSES.txt"
fi
