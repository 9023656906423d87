#!/usr/bin/env bash
# Tests of the release's shell steps against stand-ins on PATH: ci/dist-publish-luarocks.sh
# (missing API key, prerelease, re-run after a partial upload, a changed rockspec) with a fake
# `gh` and a fake `luarocks` whose "luarocks.org" is a directory (lint goes to the real
# luarocks), and lr/lr_admin from ci/dist-common.sh (no MSYSTEM reaches LuaRocks).
# Ends with "N passed, N failed"; ci/dist-local-test.sh runs it.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
REAL_LUAROCKS=$(command -v luarocks)

mkdir -p "$WORK/bin"
cat >"$WORK/bin/gh" <<'EOF'
#!/usr/bin/env bash
# gh release upload TAG --clobber FILE...: the release is $STUB/release.
echo "gh $*" >>"$STUB/calls"
[ "$1 $2" = "release upload" ] || exit 2
shift 4
cp "$@" "$STUB/release/"
EOF
cat >"$WORK/bin/luarocks" <<'EOF'
#!/usr/bin/env bash
# luarocks.org is $STUB/server; $STUB/offline makes every upload fail like a network error.
echo "luarocks $*" >>"$STUB/calls"
case $1 in
  lint) exec "$REAL_LUAROCKS" "$@" ;;
  upload)
    spec=${*: -1}
    [ -e "$STUB/offline" ] && { echo "Error: API failure: https://luarocks.org/api/1/..."; exit 1; }
    name=$(basename "$spec" .rockspec)
    if [ -e "$STUB/server/$name.rockspec" ]; then
      echo "Error: Revision of $name already exists on the server. See luarocks help upload"
      exit 1
    fi
    cp "$spec" "$STUB/server/"; echo "Done: https://luarocks.org/modules/x/$name" ;;
  download) # download --rockspec PACKAGE VERSION
    [ -e "$STUB/server/$3-$4.rockspec" ] || { echo "Error: No results matching query were found"; exit 1; }
    cp "$STUB/server/$3-$4.rockspec" . ;;
  config) echo "MSYSTEM=${MSYSTEM-unset}" ;;
  *) exit 2 ;;
esac
EOF
chmod +x "$WORK/bin/gh" "$WORK/bin/luarocks"
cp "$WORK/bin/luarocks" "$WORK/bin/luarocks-admin"

# A copy of the pieces the publish step uses, with Cargo.toml at VERSION, and 30 .sha256 files.
tree_at() { # tree_at VERSION: sets T
  T=$WORK/tree-$1
  mkdir -p "$T/ci" "$T/rockspecs" "$T/sums"
  cp ci/dist-publish-luarocks.sh ci/dist-common.sh ci/dist-render-rockspec.py "$T/ci/"
  cp rockspecs/*.rockspec.in "$T/rockspecs/"
  sed "0,/^version = \".*\"/s//version = \"$1\"/" Cargo.toml >"$T/Cargo.toml"
  for f in lua51 lua52 lua53 lua54 lua55 luajit; do
    for t in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc; do
      a=module-enet-$f-$t.tar.gz; case $t in *windows*) a=module-enet-$f-$t.zip ;; esac
      printf '%s *%s\n' "$(printf '%s' "$a" | sha256sum | cut -d' ' -f1)" "$a" >"$T/sums/$a.sha256"
    done
  done
}
fresh_stub() {
  STUB=$WORK/stub-$RANDOM$RANDOM
  mkdir -p "$STUB/server" "$STUB/release"
  : >"$STUB/calls"
}
publish() { # publish TAG [KEY]: runs the step in $T; sets status and log
  log=$STUB/log
  PATH=$WORK/bin:$PATH STUB=$STUB REAL_LUAROCKS=$REAL_LUAROCKS LUAROCKS_API_KEY=${2:-} \
    bash "$T/ci/dist-publish-luarocks.sh" "$1" "$T/sums" >"$log" 2>&1
  status=$?
}
check() { # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; echo "--- log:"; cat "$log"; echo "--- calls:"; cat "$STUB/calls"; fi
}
calls() { grep -c "$1" "$STUB/calls"; }

tree_at 0.1.0
fresh_stub
publish v0.1.0
check "release without LUAROCKS_API_KEY fails, before attaching anything" \
  bash -c "[ $status -ne 0 ] && grep -q 'LUAROCKS_API_KEY is not set' '$log' && [ $(calls '^gh ') -eq 0 ] && [ $(calls 'upload') -eq 0 ]"

fresh_stub
publish v0.1.0 secret-key
check "release with the key: lints, attaches both rockspecs, uploads back-end then module" \
  bash -c "[ $status -eq 0 ] && [ $(calls 'luarocks lint') -eq 2 ] && ls '$STUB/release' | tr '\n' ' ' | grep -qx 'luarocks-build-module-enet-0.1.0-1.rockspec module-enet-0.1.0-1.rockspec ' \
    && grep 'luarocks upload' '$STUB/calls' | sed 's/.* //' | xargs -n1 basename | tr '\n' ' ' | grep -qx 'luarocks-build-module-enet-0.1.0-1.rockspec module-enet-0.1.0-1.rockspec '"
check "the key is passed with --temp-key (not saved by --api-key)" \
  bash -c "grep -q -- '--temp-key=secret-key' '$STUB/calls' && ! grep -q -- '--api-key' '$STUB/calls'"

# A re-run after the back-end went up and the module did not.
rm "$STUB/server/module-enet-0.1.0-1.rockspec"
: >"$STUB/calls"
publish v0.1.0 secret-key
check "re-run after a partial upload: identical back-end on the server counts as done, module uploaded" \
  bash -c "[ $status -eq 0 ] && grep -q 'already on luarocks.org, identical' '$log' && [ -f '$STUB/server/module-enet-0.1.0-1.rockspec' ]"

: >"$STUB/calls"
publish v0.1.0 secret-key
check "re-run after a full upload succeeds without uploading anything new" \
  bash -c "[ $status -eq 0 ] && [ $(grep -c 'identical' "$STUB/log") -eq 2 ]"

fresh_stub
printf -- '-- another build\n' >"$STUB/server/luarocks-build-module-enet-0.1.0-1.rockspec"
publish v0.1.0 secret-key
check "a different rockspec already on the server fails, and the module is not uploaded" \
  bash -c "[ $status -ne 0 ] && grep -q 'a published revision cannot change' '$log' && [ ! -e '$STUB/server/module-enet-0.1.0-1.rockspec' ]"

fresh_stub
touch "$STUB/offline"
publish v0.1.0 secret-key
check "an upload that fails for another reason fails the step" \
  bash -c "[ $status -ne 0 ] && grep -q 'luarocks upload of .* failed' '$log'"

fresh_stub
publish v0.2.0 secret-key
check "a tag that is not the Cargo.toml version fails" \
  bash -c "[ $status -ne 0 ] && grep -q 'does not match Cargo.toml version' '$log' && [ $(calls '^gh ') -eq 0 ]"

tree_at 0.2.0-rc.1
fresh_stub
publish v0.2.0-rc.1
check "prerelease: no key needed, rockspecs 0.2.0rc1-1 attached and lint-clean, nothing uploaded" \
  bash -c "[ $status -eq 0 ] && [ -f '$STUB/release/module-enet-0.2.0rc1-1.rockspec' ] && [ -f '$STUB/release/luarocks-build-module-enet-0.2.0rc1-1.rockspec' ] \
    && [ $(calls 'luarocks lint') -eq 2 ] && [ $(calls 'luarocks upload') -eq 0 ] && grep -q 'is a prerelease' '$log'"
check "prerelease rockspec: version 0.2.0rc1-1, source from tag v0.2.0-rc.1, back-end pinned to 0.2.0rc1" \
  bash -c "grep -qx 'version = \"0.2.0rc1-1\"' '$STUB/release/module-enet-0.2.0rc1-1.rockspec' \
    && grep -q 'archive/refs/tags/v0.2.0-rc.1.tar.gz' '$STUB/release/module-enet-0.2.0rc1-1.rockspec' \
    && grep -q 'dir = \"module-enet-0.2.0-rc.1\"' '$STUB/release/module-enet-0.2.0rc1-1.rockspec' \
    && grep -q '\"luarocks-build-module-enet == 0.2.0rc1\"' '$STUB/release/module-enet-0.2.0rc1-1.rockspec'"
check "LuaRocks itself rejects the unmapped prerelease version (why the mapping exists)" \
  bash -c "sed 's/0.2.0rc1-1/0.2.0-rc.1-1/' '$STUB/release/module-enet-0.2.0rc1-1.rockspec' >'$WORK/unmapped.rockspec' && ! '$REAL_LUAROCKS' lint '$WORK/unmapped.rockspec' >/dev/null 2>&1"

tree_at 0.2.0-foo.1
fresh_stub
publish v0.2.0-foo.1
check "a pre-release word LuaRocks would sort above the release is refused before anything is attached" \
  bash -c "[ $status -ne 0 ] && grep -q 'no LuaRocks version' '$log' && [ $(calls '^gh ') -eq 0 ]"

# lr / lr_admin: Git Bash's MSYSTEM must not reach LuaRocks (it would read the wrong config).
fresh_stub
log=$STUB/log
out=$(PATH=$WORK/bin:$PATH STUB=$STUB MSYSTEM=MINGW64 bash -c '. ci/dist-common.sh; lr config; lr_admin config')
check "lr and lr_admin run LuaRocks without MSYSTEM" test "$out" = "MSYSTEM=unset
MSYSTEM=unset"
check "the Windows-run scripts call LuaRocks only through lr / lr_admin" \
  bash -c "! grep -hvE '^[[:space:]]*#' ci/dist-matrix-test.sh ci/dist-release-smoke.sh ci/dist-publish-luarocks.sh | grep -E '(^|[;&|(]|then|do) *(env [^ ]+ )?luarocks(-admin)? '"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
