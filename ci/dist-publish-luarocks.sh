#!/usr/bin/env bash
# Release step after the GitHub release is published (.github/workflows/publish-luarocks.yml):
# renders module-enet-<rv>-1.rockspec (all 30 archives pinned) and the back-end's rockspec from
# the release's .sha256 files, attaches both to the release, then uploads them to luarocks.org,
# back-end first (the module's rockspec depends on it). <rv> is the LuaRocks form of the version
# (0.2.0-rc.1 -> 0.2.0rc1, ci/dist-render-rockspec.py).
#
# - A prerelease (a version with a pre-release part) is attached to the GitHub release but not
#   uploaded: luarocks.org would hand it to every plain `luarocks install module-enet`, since
#   LuaRocks installs the highest version and 0.2.0rc1 is above 0.1.x.
# - A release needs LUAROCKS_API_KEY: without it the step fails before anything is attached.
# - Re-runs: a rockspec luarocks.org already has counts as uploaded when the copy there is
#   identical to this one (a run that died between the two uploads can be re-run); a different
#   copy is an error, since a published revision must not change (bump the rockspec revision).
# Usage: bash ci/dist-publish-luarocks.sh TAG ARTIFACTS_DIR
# Needs: GH_TOKEN for `gh release upload`; luarocks with a JSON library (and LuaSec) for upload.
# ci/dist-publish-test.sh runs it against stand-ins for gh and luarocks.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/dist-common.sh
. ci/dist-common.sh
tag=$1
artifacts=$2
version=${tag#v}
[ "$version" = "$(root_version)" ] || { echo "tag $tag does not match Cargo.toml version $(root_version)" >&2; exit 1; }
rock_version=$(py ci/dist-render-rockspec.py --luarocks-version "$version")
prerelease=false
case $version in *-*) prerelease=true ;; esac
if ! $prerelease && [ -z "${LUAROCKS_API_KEY:-}" ]; then
  echo "::error::LUAROCKS_API_KEY is not set: release $tag cannot be published to luarocks.org" \
    "(add the repository secret and re-run this job)" >&2
  exit 1
fi

out=target/rockspecs
rm -rf "$out"
py ci/dist-render-rockspec.py --checksums "$artifacts" --version "$version" --out-dir "$out"
specs=("$out/luarocks-build-module-enet-$rock_version-1.rockspec" "$out/module-enet-$rock_version-1.rockspec")
for spec in "${specs[@]}"; do lr lint "$spec"; done
gh release upload "$tag" --clobber "${specs[@]}"
if $prerelease; then
  echo "::notice::$tag is a prerelease: rockspecs ($rock_version-1) attached to the GitHub release, not uploaded to luarocks.org"
  exit 0
fi

# upload SPEC PACKAGE: uploads, or accepts an identical copy already on luarocks.org.
upload() {
  local spec=$1 package=$2 log copy
  log=$(mktemp)
  # --temp-key: `--api-key` would also save the key under ~/.luarocks.
  if lr upload --temp-key="$LUAROCKS_API_KEY" "$spec" >"$log" 2>&1; then
    cat "$log"; rm -f "$log"; return 0
  fi
  cat "$log"
  if ! grep -q "already exists on the server" "$log"; then
    rm -f "$log"; echo "::error::luarocks upload of $spec failed" >&2; return 1
  fi
  rm -f "$log"
  copy=$(mktemp -d)
  if ! (cd "$copy" && lr download --rockspec "$package" "$rock_version-1"); then
    echo "::error::luarocks.org has $package $rock_version-1 but its copy could not be fetched to compare" >&2
    return 1
  fi
  if cmp -s "$copy/$package-$rock_version-1.rockspec" "$spec"; then
    echo "$package $rock_version-1 is already on luarocks.org, identical: nothing to do"
    rm -rf "$copy"; return 0
  fi
  echo "::error::luarocks.org has a different $package $rock_version-1; a published revision cannot change (bump the rockspec revision)" >&2
  diff "$copy/$package-$rock_version-1.rockspec" "$spec" >&2 || true
  rm -rf "$copy"
  return 1
}
upload "${specs[0]}" luarocks-build-module-enet
upload "${specs[1]}" module-enet
