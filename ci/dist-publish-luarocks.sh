#!/usr/bin/env bash
# Release step after the GitHub release is published (.github/workflows/publish-luarocks.yml):
# renders module-enet-<version>-1.rockspec (all 30 archives pinned) and the back-end's
# rockspec from the release's .sha256 files, attaches both to the release, then uploads them to
# luarocks.org (back-end first, since the module's rockspec depends on it) when LUAROCKS_API_KEY
# is set.
# Usage: bash ci/dist-publish-luarocks.sh TAG ARTIFACTS_DIR
# Needs: GH_TOKEN for `gh release upload`, luarocks on PATH for the upload.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/dist-common.sh
. ci/dist-common.sh
tag=$1
artifacts=$2
version=${tag#v}
[ "$version" = "$(root_version)" ] || { echo "tag $tag does not match Cargo.toml version $(root_version)" >&2; exit 1; }
out=target/rockspecs
rm -rf "$out"
py ci/dist-render-rockspec.py --checksums "$artifacts" --version "$version" --out-dir "$out"
lr lint "$out/luarocks-build-module-enet-$version-1.rockspec"
lr lint "$out/module-enet-$version-1.rockspec"
gh release upload "$tag" --clobber "$out"/*.rockspec
if [ -z "${LUAROCKS_API_KEY:-}" ]; then
  echo "::warning::LUAROCKS_API_KEY is not set: rockspecs attached to the release, not uploaded to luarocks.org"
  exit 0
fi
lr install dkjson # luarocks upload needs a JSON library
lr upload --api-key="$LUAROCKS_API_KEY" "$out/luarocks-build-module-enet-$version-1.rockspec"
lr upload --api-key="$LUAROCKS_API_KEY" "$out/module-enet-$version-1.rockspec"
