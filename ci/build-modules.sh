#!/usr/bin/env bash
# Builds the loadable module once per Lua flavour into target/lua/<flavour>/module_enet.so.
# Usage: ci/build-modules.sh [flavour...]   (default: lua51 lua52 lua53 lua54 luajit)
# PROFILE=release builds optimised modules (benchmarks); the default debug build is for tests.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-debug}
flavours=("$@")
[ ${#flavours[@]} -gt 0 ] || flavours=(lua51 lua52 lua53 lua54 luajit)
case "$(uname -s)" in
  Darwin) ext=dylib ;;
  MINGW*|MSYS*|CYGWIN*|Windows_NT) ext=dll ;;
  *) ext=so ;;
esac
for flavour in "${flavours[@]}"; do
  args=(--lib --no-default-features --features "$flavour,module")
  [ "$profile" = release ] && args+=(--release)
  cargo build --locked "${args[@]}"
  mkdir -p "target/lua/$flavour"
  if [ "$ext" = dll ]; then src="target/$profile/module_enet.dll"; else src="target/$profile/libmodule_enet.$ext"; fi
  # LuaRocks and Lua look for module_enet.so on macOS too.
  dest="target/lua/$flavour/module_enet.$([ "$ext" = dll ] && echo dll || echo so)"
  # Copy then rename: a running interpreter keeps the library it mapped, instead of crashing on
  # a file rewritten under it.
  cp "$src" "$dest.tmp.$$" && mv -f "$dest.tmp.$$" "$dest"
  echo "built $dest"
done
