# shellcheck shell=bash
# Helpers shared by the distribution scripts (sourced, not run). They work in bash on Linux,
# macOS and Windows (Git Bash on GitHub's runners).

# flavour_of LUA: prints lua51 .. lua55 or luajit for that interpreter.
flavour_of() {
  "$1" -e "local v = _VERSION:match('%d%.%d'):gsub('%.', '') io.write(type(jit) == 'table' and 'luajit' or 'lua' .. v)"
}

# Windows runners have python, not always python3; luarocks may be a .bat that bash cannot run
# without cmd.
py() { if command -v python3 >/dev/null 2>&1; then python3 "$@"; else python "$@"; fi; }
# Every LuaRocks call goes through lr / lr_admin. Git Bash exports MSYSTEM=MINGW64, and with it
# (and no VCINSTALLDIR) LuaRocks 3.13 takes the machine for MSYS2 and reads $HOME/.luarocks
# instead of %APPDATA%\luarocks, where the setup action wrote its configuration: the install
# then finds no Lua. Without MSYSTEM it reads the right one. Elsewhere MSYSTEM is not set.
lr() {
  if command -v luarocks >/dev/null 2>&1; then env -u MSYSTEM luarocks "$@";
  else env -u MSYSTEM cmd //c luarocks.bat "$@"; fi
}
lr_admin() {
  if command -v luarocks-admin >/dev/null 2>&1; then env -u MSYSTEM luarocks-admin "$@";
  else env -u MSYSTEM cmd //c luarocks-admin.bat "$@"; fi
}

# native_path PATH: the path as the native Windows programs (lua.exe) read it, C:/...; as is
# elsewhere.
native_path() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -m "$1"; else printf '%s\n' "$1"; fi
}

# On Windows, mlua links the module to lua5X.dll by name (raw-dylib) unless told the import
# library; this tells it the one LuaRocks knows, so a differently named Lua DLL works too.
use_luarocks_lua_lib() {
  case "$(uname -s)" in MINGW* | MSYS* | CYGWIN*) ;; *) return 0 ;; esac
  local lib dir
  lib=$(lr config variables.LUALIB 2>/dev/null | tr -d '\r' || true)
  dir=$(lr config variables.LUA_LIBDIR 2>/dev/null | tr -d '\r' || true)
  if [[ $lib == *.lib ]] && [ -n "$dir" ] && [ -f "$dir/$lib" ]; then
    export LUA_LIB=$dir LUA_LIB_NAME=${lib%.lib} LUA_LINK=dylib
    echo "linking against $dir/$lib"
  fi
}

# serve_dir DIR LOG: starts a static HTTP server for DIR on 127.0.0.1 and a free port; sets
# server_pid and server_url. The caller kills server_pid.
serve_dir() {
  local dir=$1 log=$2 port='' python
  # Started directly, not through py(): `py ... &` would fork a subshell, and killing $! would
  # then leave the server running.
  python=$(command -v python3 || command -v python)
  "$python" -u -m http.server 0 --bind 127.0.0.1 --directory "$dir" >"$log" 2>&1 &
  # shellcheck disable=SC2034 # read by the caller
  server_pid=$!
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || return 1
  # shellcheck disable=SC2034 # read by the caller
  server_url=http://127.0.0.1:$port
}

# source_tarball VERSION OUT: the tree as a tag's source tarball would hold it, with top
# directory module-enet-VERSION: tracked files plus new, not ignored ones (with GNU tar
# uncommitted work is included, so a local run tests what is on disk).
source_tarball() {
  local version=$1 out=$2
  if ! tar --version 2>/dev/null | grep -q GNU; then
    # bsdtar (macOS) has no --transform: take the committed tree.
    git archive --format=tar.gz --prefix="module-enet-$version/" -o "$out" HEAD
    return
  fi
  git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
  done | tar --null -T - --transform "s,^,module-enet-$version/," -czf "$out"
}

root_version() { sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1; }
