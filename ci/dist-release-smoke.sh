#!/usr/bin/env bash
# Release gate, one OS x Lua cell (.github/workflows/release-smoke.yml, run by the release
# workflow before anything is published): serves the freshly built archives and the rendered
# rockspecs from 127.0.0.1, installs module-enet with LuaRocks requiring the prebuilt library
# (MODULE_ENET_REQUIRE_PREBUILT=1: no cargo fallback), and runs examples/loopback.lua with it.
# Usage: bash ci/dist-release-smoke.sh ARTIFACTS_DIR   (the dist archives and their .sha256)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/dist-common.sh
. ci/dist-common.sh
artifacts=$(cd "$1" && pwd)
version=$(root_version)
rock_version=$(py ci/dist-render-rockspec.py --luarocks-version "$version")
flavour=$(flavour_of lua)
echo "Lua: $(lua -v 2>&1) -> flavour $flavour, module-enet $version"

serve=$PWD/target/release-smoke
rm -rf "$serve"
mkdir -p "$serve/release" "$serve/rocks"
cp "$artifacts"/module-enet-* "$serve/release/"
source_tarball "$version" "$serve/module-enet-$version.tar.gz"
serve_dir "$serve" "$PWD/target/release-smoke.http.log"
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
echo "serving $serve at $server_url"

py ci/dist-render-rockspec.py --checksums "$serve/release" --verify --version "$version" \
  --base-url "$server_url/release" --source-url "$server_url/module-enet-$version.tar.gz" \
  --source-dir "module-enet-$version" --out-dir "$serve/rocks"
lr_admin make-manifest "$serve/rocks"

MODULE_ENET_REQUIRE_PREBUILT=1 lr install --only-server="$server_url/rocks" module-enet "$rock_version" 2>&1 | tee "$serve/install.log"
grep -q "installed the prebuilt $flavour-" "$serve/install.log"
out=$(lua -e 'local m = require("module_enet") io.write("required ", m.VERSION, "\n")' examples/loopback.lua)
echo "$out"
grep -qx "required $version" <<<"$out"
grep -qx 'loopback OK' <<<"$out"
