#!/usr/bin/env bash
# End-to-end test of the release path, offline: cargo-dist builds the Linux x86_64 archives, a
# local HTTP server on 127.0.0.1 plays GitHub releases and luarocks.org, and LuaRocks installs
# the rendered release rockspec into a fresh tree for each of lua5.1, lua5.2, lua5.3, lua5.4 and
# luajit, which then loads the module and runs examples/loopback.lua. Then the same install with
# a corrupted SHA-256 pin, which must fall back to cargo and still work (FALLBACK_LUAS, default
# "lua5.4 luajit": one PUC Lua and LuaJIT; every extra one costs a release build).
#
# Also checks: `dist plan` (exactly the 30 expected archives), the release workflow in sync
# (ci/dist-generate.sh --check), the licence notices in sync (ci/dist-licenses.sh --check), each
# archive holds its own flavour's stripped binary and the licences, the glibc check, the dist/
# packages match the root version, actionlint over .github/workflows and shellcheck over the
# distribution scripts, the back-end's unit tests and the publish step's tests, and README's
# Debian command as written.
#
# Usage: bash ci/dist-local-test.sh        (ci/suites.d/dist.sh runs it; ends "N passed, N failed")
# Needs: dist (cargo-dist 0.34) and cargo-about (both installed with cargo if missing),
# luarocks and the Lua headers (installed with apt if missing and running as root), python3,
# root and unshare for the README check.
# shellcheck disable=SC2317 # functions here run through check()
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=ci/dist-common.sh
. ci/dist-common.sh
ROOT=$PWD
export CARGO_TERM_COLOR=never
FALLBACK_LUAS=${FALLBACK_LUAS:-"lua5.4 luajit"}
DIST_VERSION=0.34.0
TRIPLE=x86_64-unknown-linux-gnu
FLAVOURS=(lua51 lua52 lua53 lua54 lua55 luajit)
TRIPLES=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc)
# interpreter:flavour:luarocks --lua-version
LUAS=(lua5.1:lua51:5.1 lua5.2:lua52:5.2 lua5.3:lua53:5.3 lua5.4:lua54:5.4 luajit:luajit:5.1)
WORK=$ROOT/target/dist-test
TOOLS=$ROOT/target/dist-tools
VERSION=$(root_version)
# The rockspec version (0.2.0-rc.1 -> 0.2.0rc1); the module itself reports VERSION.
ROCK_VERSION=$(python3 ci/dist-render-rockspec.py --luarocks-version "$VERSION")
started=$(date +%s)

passed=0
failed=0
failures=()
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); failures+=("$*"); echo "FAIL $*"; }
check() { # check NAME COMMAND...: passes when COMMAND exits 0
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
phase() { echo "=== $* ($(($(date +%s) - started))s) ==="; }
finish() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null
  echo "dist suite wall time: $(($(date +%s) - started))s"
  if [ ${#failures[@]} -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# --- Tools ---------------------------------------------------------------------------------------
phase "tools"
apt_updated=false
need_deb() { # need_deb PACKAGE...: installs the missing ones (as root; otherwise they must exist)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then echo "missing Debian packages: ${missing[*]}" >&2; return 1; fi
  if ! $apt_updated; then apt-get update -qq && apt_updated=true; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
check "debian packages" need_deb luarocks lua5.1 lua5.2 lua5.3 lua5.4 luajit \
  liblua5.1-0-dev liblua5.2-dev liblua5.3-dev liblua5.4-dev libluajit-5.1-dev shellcheck curl

export PATH=$HOME/.cargo/bin:$TOOLS/bin:$PATH
if ! dist --version 2>/dev/null | grep -q "$DIST_VERSION"; then
  echo "installing cargo-dist $DIST_VERSION with cargo (takes a while on 2 cores)"
  # Unoptimised and without debug info: 10.4 min of CPU instead of about twice that on 2 cores
  # (measured December 2026). dist only plans and drives cargo, so its own speed does not show.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
    CARGO_PROFILE_RELEASE_INCREMENTAL=false \
    cargo install cargo-dist --locked --version "$DIST_VERSION" >"$WORK.cargo-dist.log" 2>&1 \
    || tail -20 "$WORK.cargo-dist.log"
fi
check "cargo-dist $DIST_VERSION available" bash -c "dist --version | grep -q '$DIST_VERSION'"

# --- Static checks -------------------------------------------------------------------------------
phase "static checks"
check "dist/ packages match Cargo.toml (ci/dist-wrappers.sh --check)" bash ci/dist-wrappers.sh --check
check "actionlint + shellcheck (ci/dist-lint.sh)" bash ci/dist-lint.sh
check "luacheck build back-end and its tests" luacheck --no-color -q luarocks/

# The back-end runs inside LuaRocks on whatever Lua LuaRocks runs on: its unit tests (every OS
# x Lua against stand-ins for LuaRocks) run under each interpreter here.
count_summary() { # count_summary NAME LOG PASSED-REGEX FAILED-REGEX STATUS
  local p f
  p=$(grep -Eo "$3" "$2" | tail -1 | grep -Eo '^[0-9]+')
  f=$(grep -Eo "$4" "$2" | tail -1 | grep -Eo '^[0-9]+')
  p=${p:-0}; f=${f:-0}
  if [ "$5" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -gt 0 ]; then failures+=("$1"); tail -40 "$2"; fi
  echo "$1: $p passed, $f failed"
}
mkdir -p "$WORK"
for interp in lua5.1 lua5.2 lua5.3 lua5.4 luajit; do
  "$interp" /usr/bin/busted -o utfTerminal luarocks/spec >"$WORK/backend-$interp.log" 2>&1
  status=$?
  # busted counts failures and errors apart; both are failures here.
  bad=$(sed -n 's/.* \([0-9][0-9]*\) failures\{0,1\} \/ \([0-9][0-9]*\) errors\{0,1\}.*/\1 \2/p' "$WORK/backend-$interp.log" \
    | tail -1 | awk '{print $1 + $2}')
  echo "${bad:-0} bad" >>"$WORK/backend-$interp.log"
  count_summary "back-end unit tests under $interp" "$WORK/backend-$interp.log" '[0-9]+ successes' '[0-9]+ bad' "$status"
done
bash ci/dist-publish-test.sh >"$WORK/publish-test.log" 2>&1
count_summary "release script tests (ci/dist-publish-test.sh)" "$WORK/publish-test.log" '[0-9]+ passed' '[0-9]+ failed' $?
for spec in rockspecs/*.rockspec; do
  check "luarocks lint $spec" luarocks lint "$spec"
done

mkdir -p "$WORK"
plan_ok=true
dist plan --output-format=json >"$WORK/plan.json" 2>"$WORK/plan.err" || plan_ok=false
check "dist plan" $plan_ok
# allow-dirty = ["ci"] stops `dist plan` comparing the workflow; this compares it instead.
check "release workflow is dist generate + ci/dist-generate.sh's edits (in sync)" bash ci/dist-generate.sh --check
check "pr-run-mode upload: pull requests on the release path build and smoke-test" \
  bash -c "python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))[\"ci\"][\"github\"][\"pr_run_mode\"] != \"upload\")' '$WORK/plan.json'"
check "aarch64 Linux builds in the manylinux_2_28_aarch64 container" \
  bash -c "grep -q 'quay.io/pypa/manylinux_2_28_aarch64' '$WORK/plan.json'"
check "THIRD-PARTY-LICENSES.txt lists every crate cargo tree links, at its version (ci/dist-licenses.sh --check-crates)" \
  bash ci/dist-licenses.sh --check-crates
# The byte-for-byte regeneration needs cargo-about, which CI here does not build (10-16 min);
# GitHub's lint job runs it. Where it is installed, it runs here too.
if cargo about --version >/dev/null 2>&1; then
  check "THIRD-PARTY-LICENSES.txt regenerates unchanged (ci/dist-licenses.sh --check)" bash ci/dist-licenses.sh --check
else
  echo "NOT RUN: ci/dist-licenses.sh --check (cargo-about not installed; not counted)"
fi
[ "$plan_ok" = true ] || cat "$WORK/plan.err"
dist plan 2>/dev/null | sed -n '1,200p' >"$WORK/plan.txt"
expected_plan() {
  for f in "${FLAVOURS[@]}"; do for t in "${TRIPLES[@]}"; do
    case $t in *windows*) echo "module-enet-$f-$t.zip" ;; *) echo "module-enet-$f-$t.tar.gz" ;; esac
  done; done | sort
}
planned_archives() {
  python3 - "$WORK/plan.json" <<'EOF'
import json, sys
plan = json.load(open(sys.argv[1]))
for name, art in sorted(plan.get("artifacts", {}).items()):
    if art.get("kind") == "executable-zip":
        print(name)
EOF
}
if diff <(expected_plan) <(planned_archives) >"$WORK/plan.diff"; then
  pass "dist plan lists exactly the 30 archives module-enet-<flavour>-<triple>"
else
  fail "dist plan archive list"; cat "$WORK/plan.diff"
fi
n_sums=$(python3 -c 'import json,sys; print(sum(1 for a in json.load(open(sys.argv[1]))["artifacts"].values() if a.get("kind")=="checksum"))' "$WORK/plan.json" 2>/dev/null)
check "dist plan lists a .sha256 per archive (30, got ${n_sums:-?})" test "${n_sums:-0}" -eq 30
echo "dist plan: $(planned_archives | wc -l) archives, ${n_sums:-?} checksums"

# --- Build the Linux x86_64 archives ---------------------------------------------------------
phase "dist build --artifacts=local --target=$TRIPLE"
rm -rf target/distrib/module-enet-*
t0=$(date +%s)
# As the release workflow: cargo-dist's RUSTFLAGS replace .cargo/config.toml's (ci/dist-generate.sh).
# Unlike it, without thin LTO and with 16 codegen units (DIST_LTO=1 restores them): the same
# code, cfg, strip and imports, which is what this suite checks, built in less time (thin LTO
# over six libraries was most of the 9 min this step took cold on 2 cores).
lto=()
if [ "${DIST_LTO:-0}" != 1 ]; then lto=(CARGO_PROFILE_DIST_LTO=false CARGO_PROFILE_DIST_CODEGEN_UNITS=16); fi
if env "${lto[@]}" RUSTFLAGS='--cfg poly1305_backend="soft"' nice dist build --artifacts=local --target="$TRIPLE" >"$WORK/build.log" 2>&1; then
  pass "dist build ($(($(date +%s) - t0))s)"
else
  fail "dist build"; tail -40 "$WORK/build.log"; finish
fi

# Each archive: present, hash as in its .sha256, holding module_enet_<flavour>.so.
declare -A LIB
for f in "${FLAVOURS[@]}"; do
  a=target/distrib/module-enet-$f-$TRIPLE.tar.gz
  check "archive $a has a matching .sha256" bash -c "cd target/distrib && sha256sum -c --quiet $(basename "$a").sha256"
  d=$WORK/unpacked/$f
  rm -rf "$d"; mkdir -p "$d"
  tar -xzf "$a" -C "$d"
  LIB[$f]=$(find "$d" -name "libmodule_enet_$f.so" | head -1)
  check "archive $a holds libmodule_enet_$f.so" test -n "${LIB[$f]}"
done
distinct=$(for f in "${FLAVOURS[@]}"; do sha256sum "${LIB[$f]:-/dev/null}" | cut -d' ' -f1; done | sort -u | wc -l)
check "the 6 libraries are 6 different binaries" test "$distinct" -eq 6

# The Lua API a library imports tells its flavour apart from every other.
imports() { nm -D --undefined-only "$1" | awk '{print $2}' | grep -E '^(lua|luaL|luaJIT)_' | sed 's/@.*//' | sort -u; }
has() { imports "$1" | grep -qx "$2"; }
lacks() { ! has "$1" "$2"; }
check "lua51 imports lua_objlen (5.1 API), not lua_rawlen" bash -c "$(declare -f imports has lacks); has '${LIB[lua51]}' lua_objlen && lacks '${LIB[lua51]}' lua_rawlen"
check "lua52 imports lua_rawlen, not lua_rotate" bash -c "$(declare -f imports has lacks); has '${LIB[lua52]}' lua_rawlen && lacks '${LIB[lua52]}' lua_rotate"
check "lua53 imports lua_rotate, not lua_newuserdatauv" bash -c "$(declare -f imports has lacks); has '${LIB[lua53]}' lua_rotate && lacks '${LIB[lua53]}' lua_newuserdatauv"
check "lua54 imports lua_newuserdatauv" bash -c "$(declare -f imports has lacks); has '${LIB[lua54]}' lua_newuserdatauv"
check "lua55 imports lua_pushexternalstring (5.5 only), lua54 does not" bash -c "$(declare -f imports has lacks); has '${LIB[lua55]}' lua_pushexternalstring && lacks '${LIB[lua54]}' lua_pushexternalstring"
check "luajit imports a different Lua API than lua51" bash -c "$(declare -f imports); ! diff -q <(imports '${LIB[luajit]}') <(imports '${LIB[lua51]}') >/dev/null"

probe=$WORK/probe.lua
cat >"$probe" <<'EOF'
local open = assert(package.loadlib(arg[1], "luaopen_module_enet"))
local m = open("module_enet")
assert(type(m.host_create) == "function")
io.write(m.VERSION, "\n")
EOF
for entry in "${LUAS[@]}"; do
  IFS=: read -r interp flavour _ <<<"$entry"
  check "$flavour archive loads in $interp" bash -c "$interp '$probe' '${LIB[$flavour]}' | grep -qx '$VERSION'"
done
for flavour in lua51 lua52 lua53; do
  check "$flavour archive does not load in lua5.4" bash -c "! lua5.4 '$probe' '${LIB[$flavour]}' >/dev/null 2>&1"
done
check "lua54 archive does not load in lua5.1" bash -c "! lua5.1 '$probe' '${LIB[lua54]}' >/dev/null 2>&1"

# Not loaded here: the lua55 archive (Debian 12 has no lua5.5 binary; its imports are checked
# above, and the Lua 5.5 build is tested on an embedded 5.5 by ci/test.sh).

# What every archive carries besides the library: the licence and the third-party notices, and
# a stripped library (profile.dist strip = true).
for f in "${FLAVOURS[@]}"; do
  a=target/distrib/module-enet-$f-$TRIPLE.tar.gz
  check "archive $f carries LICENSE and THIRD-PARTY-LICENSES.txt" \
    bash -c "tar -tzf '$a' | grep -q '/LICENSE\$' && tar -tzf '$a' | grep -q '/THIRD-PARTY-LICENSES.txt\$'"
  check "archive $f: library stripped ($(stat -c %s "${LIB[$f]}") bytes)" \
    bash -c "! readelf -S '${LIB[$f]}' | grep -q '\.symtab'"
done

# glibc floor (ci/dist-glibc-check.sh, which gates releases built on manylinux_2_28). These
# archives are built on this machine's glibc, above the floor, so here the check must fail
# them and name the version; the pass side is shown on a library made to need only old symbols.
glibc_here=$(ldd --version | head -1 | grep -Eo '[0-9]+\.[0-9]+$')
bash ci/dist-glibc-check.sh --floor 2.28 target/distrib/module-enet-*-"$TRIPLE".tar.gz >"$WORK/glibc.log" 2>&1
glibc_status=$?
cat "$WORK/glibc.log"
highest=$(grep -Eo 'GLIBC_[0-9.]+' "$WORK/glibc.log" | sort -uV | tail -1)
check "glibc check fails this machine's archives (glibc $glibc_here) at floor 2.28: need ${highest:-?}" \
  bash -c "[ $glibc_status -ne 0 ] && [ \$(grep -c '^too new: .* needs GLIBC_' '$WORK/glibc.log') -eq 6 ]"
check "glibc check passes the same archives at floor $glibc_here" \
  bash ci/dist-glibc-check.sh --floor "$glibc_here" target/distrib/module-enet-*-"$TRIPLE".tar.gz
old_so=$WORK/glibc-old/lib
rm -rf "$WORK/glibc-old"; mkdir -p "$old_so"
printf '#include <string.h>\nsize_t old_only(const char *s) { return strlen(s); }\n' >"$WORK/glibc-old/old.c"
if cc -shared -fPIC -o "$old_so/libold.so" "$WORK/glibc-old/old.c" 2>"$WORK/glibc-old/cc.log" \
  && tar -czf "$WORK/glibc-old/old.tar.gz" -C "$WORK/glibc-old" lib; then
  check "glibc check passes a library that needs only GLIBC_2.2.5 at floor 2.28" \
    bash ci/dist-glibc-check.sh --floor 2.28 "$WORK/glibc-old/old.tar.gz"
else
  fail "glibc check: cannot build the old-symbols library"; cat "$WORK/glibc-old/cc.log"
fi

# --- Serve a release and a rocks server from 127.0.0.1 --------------------------------------
phase "local release server"
SERVE=$WORK/serve
rm -rf "$SERVE"; mkdir -p "$SERVE/release" "$SERVE/rocks" "$SERVE/rocks-corrupt"
cp target/distrib/module-enet-*-"$TRIPLE".tar.gz target/distrib/module-enet-*-"$TRIPLE".tar.gz.sha256 "$SERVE/release/"
src=module-enet-$VERSION
source_tarball "$VERSION" "$SERVE/$src.tar.gz"
server_url=
serve_dir "$SERVE" "$WORK/http.log"
trap 'kill "$server_pid" 2>/dev/null' EXIT
check "http server on ${server_url:-127.0.0.1:?}" test -n "$server_url"
[ -n "$server_url" ] || finish
URL=$server_url

check "render release rockspecs" python3 ci/dist-render-rockspec.py --checksums "$SERVE/release" \
  --targets "$TRIPLE" --verify --version "$VERSION" --base-url "$URL/release" \
  --source-url "$URL/$src.tar.gz" --source-dir "$src" --out-dir "$SERVE/rocks"
SPEC=$SERVE/rocks/module-enet-$ROCK_VERSION-1.rockspec
partial=$WORK/partial
rm -rf "$partial"; mkdir -p "$partial"
cp "$SERVE"/release/*.sha256 "$partial/"
rm "$partial/module-enet-lua53-$TRIPLE.tar.gz.sha256"
check "render refuses a release with a .sha256 missing" \
  bash -c "! python3 ci/dist-render-rockspec.py --checksums '$partial' --targets '$TRIPLE' --out-dir '$partial/out' 2>/dev/null"
check "render refuses a release missing other targets' archives" \
  bash -c "! python3 ci/dist-render-rockspec.py --checksums '$SERVE/release' --out-dir '$partial/out' 2>/dev/null"
check "rendered rockspec pins 6 archives" test "$(grep -c 'sha256 = "' "$SPEC")" -eq 6
check "rendered rockspecs pass luarocks lint" bash -c "luarocks lint '$SPEC' && luarocks lint '$SERVE/rocks/luarocks-build-module-enet-$ROCK_VERSION-1.rockspec'"
cp "$SERVE/rocks/luarocks-build-module-enet-$ROCK_VERSION-1.rockspec" "$SERVE/rocks-corrupt/"
# Flip the first hex digit of every pin: each flavour's download then fails verification.
python3 -c 'import re,sys; print(re.sub(r"sha256 = \"([0-9a-f])", lambda m: "sha256 = \"" + ("1" if m.group(1) == "0" else "0"), sys.stdin.read()), end="")' \
  <"$SPEC" >"$SERVE/rocks-corrupt/module-enet-$ROCK_VERSION-1.rockspec"
check "corrupted rockspec differs only in the pins" \
  test "$(diff "$SPEC" "$SERVE/rocks-corrupt/module-enet-$ROCK_VERSION-1.rockspec" | grep -c '^>')" -eq 6
for d in rocks rocks-corrupt; do
  luarocks-admin make-manifest "$SERVE/$d" >/dev/null 2>&1 || fail "luarocks-admin make-manifest $d"
done

# --- Install with LuaRocks, per interpreter --------------------------------------------------
luarocks_for() { # luarocks_for INTERP LUAVERSION TREE ARGS...
  local interp=$1 v=$2 tree=$3; shift 3
  local conf=$WORK/luarocks-$interp.lua
  if [ "$interp" = luajit ]; then
    printf 'lua_interpreter = "luajit"\nvariables = { LUA_BINDIR = "/usr/bin", LUA_INCDIR = "/usr/include/luajit-2.1" }\n' >"$conf"
  else
    printf 'lua_interpreter = "%s"\n' "$interp" >"$conf"
  fi
  LUAROCKS_CONFIG=$conf luarocks --lua-version="$v" --tree="$tree" "$@"
}
run_loopback() { # run_loopback INTERP V TREE LOG
  LUA_PATH="$3/share/lua/$2/?.lua;;" LUA_CPATH="$3/lib/lua/$2/?.so" \
    timeout 60 "$1" -e 'local m = require("module_enet"); io.write("required ", m.VERSION, "\n")' examples/loopback.lua >"$4" 2>&1
}

install_one() { # install_one MODE INTERP FLAVOUR V
  local mode=$1 interp=$2 flavour=$3 v=$4
  local tree=$WORK/trees/$mode-$interp log=$WORK/install-$mode-$interp.log t0
  local server=$URL/rocks
  rm -rf "$tree"
  t0=$(date +%s)
  if [ "$mode" = prebuilt ]; then
    MODULE_ENET_REQUIRE_PREBUILT=1 luarocks_for "$interp" "$v" "$tree" install --only-server="$server" module-enet "$ROCK_VERSION" >"$log" 2>&1
  else
    server=$URL/rocks-corrupt
    # The back-end's `cargo build --release`, without thin LTO for time (as `dist build` above).
    CARGO_TARGET_DIR=$WORK/fallback-target CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      luarocks_for "$interp" "$v" "$tree" install --only-server="$server" module-enet "$ROCK_VERSION" >"$log" 2>&1
  fi
  local status=$? secs=$(($(date +%s) - t0))
  local so=$tree/lib/lua/$v/module_enet.so
  if [ $status -ne 0 ] || [ ! -f "$so" ]; then
    fail "$mode install under $interp (luarocks exit $status)"; tail -30 "$log"; return
  fi
  if [ "$mode" = prebuilt ]; then
    check "$interp: prebuilt install (${secs}s) used the verified archive" \
      bash -c "grep -q 'installed the prebuilt $flavour-$TRIPLE library (SHA-256 verified' '$log' && cmp -s '$so' '${LIB[$flavour]}'"
  else
    check "$interp: corrupted pin rejected, fell back to cargo (${secs}s)" \
      bash -c "grep -q 'SHA-256 mismatch' '$log' && grep -q 'falling back to building from source' '$log' && grep -q 'installed the $flavour library built from source' '$log' && ! cmp -s '$so' '${LIB[$flavour]}'"
  fi
  if run_loopback "$interp" "$v" "$tree" "$WORK/run-$mode-$interp.log"; then
    check "$interp: require + loopback with the $mode install" \
      bash -c "grep -qx 'required $VERSION' '$WORK/run-$mode-$interp.log' && grep -qx 'loopback OK' '$WORK/run-$mode-$interp.log'"
  else
    fail "$interp: loopback with the $mode install"; tail -20 "$WORK/run-$mode-$interp.log"
  fi
  echo "$mode $interp: ${secs}s"
}

phase "luarocks install (prebuilt)"
for entry in "${LUAS[@]}"; do
  IFS=: read -r interp flavour v <<<"$entry"
  install_one prebuilt "$interp" "$flavour" "$v"
done

# README's Debian/Ubuntu command, as written (apt's LuaRocks 3.8, system tree, no LUA_PATH),
# plus --only-server for this machine's rocks server. It runs in a mount namespace whose
# /usr/local (the system tree) is a fresh tmpfs, so it leaves nothing behind; the same command
# with liblua5.4-dev's headers hidden must fail on lua.h, as README says.
readme_cmd() { # readme_cmd LOG [hide-headers]
  local hide=${2:-}
  # shellcheck disable=SC2016 # expanded by the inner bash
  unshare --mount --propagation private bash -c '
    set -e
    mount -t tmpfs tmpfs /usr/local
    if [ -n "$2" ]; then mount -t tmpfs tmpfs /usr/include/lua5.4; fi
    export HOME=/usr/local/home; mkdir -p "$HOME"
    cd "$HOME"
    luarocks --lua-version=5.4 install --only-server="$1" module-enet
    env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 lua5.4 \
      -e "local m = require(\"module_enet\") io.write(\"required \", m.VERSION, \" from \", package.searchpath(\"module_enet\", package.cpath), \"\\n\")" \
      "$3/examples/loopback.lua"
  ' readme "$URL/rocks" "$hide" "$ROOT" >"$1" 2>&1
}
if command -v unshare >/dev/null && [ "$(id -u)" -eq 0 ]; then
  readme_cmd "$WORK/readme-debian.log"
  check "README Debian command: luarocks --lua-version=5.4 install module-enet (prebuilt, in /usr/local)" \
    bash -c "grep -q 'installed the prebuilt lua54-$TRIPLE library' '$WORK/readme-debian.log' && grep -qx 'required $VERSION from /usr/local/lib/lua/5.4/module_enet.so' '$WORK/readme-debian.log' && grep -qx 'loopback OK' '$WORK/readme-debian.log'"
  grep -qx 'loopback OK' "$WORK/readme-debian.log" || tail -30 "$WORK/readme-debian.log"
  readme_cmd "$WORK/readme-debian-noheaders.log" hide
  check "README Debian command without liblua5.4-dev fails on the Lua headers (LuaRocks 3.8 checks before the back-end)" \
    bash -c "! grep -q 'loopback OK' '$WORK/readme-debian-noheaders.log' && grep -q 'Failed finding Lua header files' '$WORK/readme-debian-noheaders.log'"
else
  fail "README Debian command (needs root and unshare for a private /usr/local)"
fi

phase "luarocks install with corrupted SHA-256 (fallback: $FALLBACK_LUAS)"
for entry in "${LUAS[@]}"; do
  IFS=: read -r interp flavour v <<<"$entry"
  case " $FALLBACK_LUAS " in *" $interp "*) install_one fallback "$interp" "$flavour" "$v" ;; esac
done

phase "done"
finish
