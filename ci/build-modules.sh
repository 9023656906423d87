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
  # ci/test.sh builds every flavour before its suites and then sets MODULES_BUILT=1: building one
  # again would relink it, as cargo names the cdylib without a hash and each flavour's build
  # overwrites the last one's (~20 s a flavour, several times per CI run).
  if [ "${MODULES_BUILT:-}" = 1 ] && [ "$profile" = debug ] && [ -e "target/lua/$flavour/module_enet.so" ]; then
    echo "kept target/lua/$flavour/module_enet.so (MODULES_BUILT=1)"
    continue
  fi
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
