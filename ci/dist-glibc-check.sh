#!/usr/bin/env bash
# The glibc floor of the Linux archives: prints the highest GLIBC_ symbol version each library
# needs (and the symbols that need it), and fails when one is above the floor (default 2.28,
# the manylinux_2_28 containers the release builds them in). A library above the floor would
# fail its test load on an older system and the install would fall back to cargo, silently
# slower; docs/distribution.md promises glibc >= 2.28.
# Usage: bash ci/dist-glibc-check.sh [--floor X.Y] ARCHIVE.tar.gz...
# Runs in the release workflow (release-smoke.yml) on all 12 Linux archives, and in the dist
# suite on the x86_64 ones built on this machine. Needs readelf (binutils), which reads ELF
# files of any architecture.
set -euo pipefail
floor=2.28
if [ "${1:-}" = --floor ]; then floor=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: $0 [--floor X.Y] ARCHIVE.tar.gz..." >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for archive in "$@"; do
  d=$work/$(basename "$archive")
  mkdir -p "$d"
  tar -xzf "$archive" -C "$d"
  libs=$(find "$d" -name '*.so' -type f)
  if [ -z "$libs" ]; then
    echo "no library: $(basename "$archive") has no .so inside" >&2; status=1; continue
  fi
  for lib in $libs; do
    # The version-needs section lists every GLIBC_x.y the library asks the loader for.
    highest=$(readelf -W -V "$lib" | grep -o 'Name: GLIBC_[0-9.]*' | sed 's/Name: GLIBC_//' | sort -V | tail -1)
    if [ -z "$highest" ]; then
      echo "no glibc: $(basename "$archive"): $(basename "$lib") needs no GLIBC_ version (not a glibc build?)" >&2
      status=1; continue
    fi
    symbols=$(readelf -W --dyn-syms "$lib" | grep -o "[A-Za-z0-9_]*@GLIBC_$highest\b" | sed 's/@.*//' | sort -u | head -5 | tr '\n' ' ')
    if [ "$(printf '%s\n%s\n' "$highest" "$floor" | sort -V | tail -1)" = "$floor" ]; then
      echo "ok   $(basename "$archive"): GLIBC_$highest <= $floor"
    else
      echo "too new: $(basename "$archive") needs GLIBC_$highest > floor $floor (${symbols% })" >&2
      status=1
    fi
  done
done
exit $status
