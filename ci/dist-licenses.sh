#!/usr/bin/env bash
# Writes THIRD-PARTY-LICENSES.txt (shipped in every release archive, dist-workspace.toml
# `include`): the licences of the crates linked into the release libraries, generated from
# Cargo.lock by cargo-about (settings and template: dist/about.toml, dist/about.hbs). The file is
# committed; --check regenerates it and fails when the committed copy differs (the dist suite
# runs that, so a Cargo.lock change without a refresh fails CI). Run it after changing
# dependencies.
# Usage: bash ci/dist-licenses.sh [--check]
# Needs: cargo-about (installed with cargo when missing: `cargo install cargo-about --locked`).
set -euo pipefail
cd "$(dirname "$0")/.."
ABOUT_VERSION=0.9.3
export PATH=$HOME/.cargo/bin:$PATH
if ! cargo about --version 2>/dev/null | grep -q "$ABOUT_VERSION"; then
  echo "installing cargo-about $ABOUT_VERSION with cargo"
  cargo install cargo-about --locked --version "$ABOUT_VERSION" >/dev/null
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The flavour packages all link the same crates; lua54's stands for all six.
cargo about generate --locked --offline -c dist/about.toml -m dist/lua54/Cargo.toml dist/about.hbs -o "$out"
if [ "${1:-}" = --check ]; then
  if cmp -s "$out" THIRD-PARTY-LICENSES.txt; then
    echo "dist-licenses: THIRD-PARTY-LICENSES.txt is up to date ($(grep -c '^  ' "$out") crates)"
  else
    echo "dist-licenses: THIRD-PARTY-LICENSES.txt is stale (run bash ci/dist-licenses.sh)" >&2
    diff -u THIRD-PARTY-LICENSES.txt "$out" | head -40 >&2 || true
    exit 1
  fi
else
  cp "$out" THIRD-PARTY-LICENSES.txt
  echo "dist-licenses: wrote THIRD-PARTY-LICENSES.txt ($(grep -c '^  ' "$out") crates)"
fi
