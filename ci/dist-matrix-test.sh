#!/usr/bin/env bash
# One cell of the GitHub test matrix (.github/workflows/test.yml, OS x Lua). Expects `lua` and
# `luarocks` on PATH (luarocks/gh-actions-lua and gh-actions-luarocks) and a Rust toolchain.
#  1. builds the module for this Lua (ci/build-modules.sh) and runs the busted specs with it;
#  2. installs the rock the way a user of the dev rockspec would (the build back-end, which has
#     no archives to use there and builds with cargo) and runs examples/loopback.lua with it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/dist-common.sh
. ci/dist-common.sh

flavour=$(flavour_of lua)
echo "Lua: $(lua -v 2>&1) -> flavour $flavour"
case "$(uname -s)" in MINGW* | MSYS* | CYGWIN*) ext=dll sep=';' ;; *) ext=so sep=';' ;; esac

echo "=== build the module ==="
# Only this build is told the import library: `luarocks make` below must find it on its own.
(use_luarocks_lua_lib && bash ci/build-modules.sh "$flavour")

echo "=== busted specs ==="
lr install busted
printf '%s\n' "require('busted.runner')({ standalone = false })" >target/busted-run.lua
LUA_CPATH="$(native_path "$PWD")/target/lua/$flavour/?.$ext$sep${LUA_CPATH:-;;}" lua target/busted-run.lua -o utfTerminal tests/spec

echo "=== luarocks make (back-end + dev rockspec) ==="
lr make rockspecs/luarocks-build-module-enet-dev-1.rockspec
lr make rockspecs/module-enet-dev-1.rockspec
lr list module-enet
echo "=== examples/loopback.lua with the installed rock ==="
out=$(lua -e 'local m = require("module_enet") io.write("required ", m.VERSION, "\n")' examples/loopback.lua)
echo "$out"
grep -qx 'loopback OK' <<<"$out"
