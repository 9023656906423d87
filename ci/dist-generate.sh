#!/usr/bin/env bash
# Writes .github/workflows/release.yml: cargo-dist's own `dist generate` output, then three
# edits cargo-dist has no setting for (so dist-workspace.toml has allow-dirty = ["ci"], and
# `dist plan` no longer compares the file; `--check` here does, in the dist suite):
#  1. triggers: pull requests only when they touch the release path, and manual runs
#     (workflow_dispatch); both build and smoke-test everything and publish nothing
#     (pr-run-mode = "upload"); tags publish as before;
#  2. "publishing" means a tag push (cargo-dist's template says "not a pull request", which
#     would make a manual run on a branch try to release the branch name);
#  3. secrets: cargo-dist hands every custom job `secrets: inherit` (no setting to narrow it:
#     axodotdev/cargo-dist issue 2282); release-smoke gets none and
#     publish-luarocks only LUAROCKS_API_KEY;
#  4. RUSTFLAGS of the build jobs carry .cargo/config.toml's poly1305 backend choice (cargo-dist
#     builds with its own RUSTFLAGS, which starts from the job's, and cargo then ignores the
#     config file's rustflags).
# Each edit must match the generated text exactly, so a cargo-dist upgrade that changes the
# template fails here instead of silently dropping an edit.
# Usage: bash ci/dist-generate.sh [--check]     Needs: dist (cargo-dist 0.34.0), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
[ "${1:-}" = --check ] && check=true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# cargo-dist writes nothing while allow-dirty names ci: generate in a copy without it.
git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf - | tar -xf - -C "$work"
sed -i '/^allow-dirty = /d' "$work/dist-workspace.toml"
(cd "$work" && dist generate --mode=ci >/dev/null 2>&1) || { echo "dist-generate: dist generate failed" >&2; (cd "$work" && dist generate --mode=ci); exit 1; }

python3 - "$work/.github/workflows/release.yml" "$work/release.yml" <<'EOF'
import sys

text = open(sys.argv[1], encoding="utf-8").read()


def edit(old: str, new: str, count: int) -> None:
    global text
    found = text.count(old)
    if found != count:
        sys.exit(f"dist-generate: expected {count} x {old!r} in cargo-dist's release.yml, found {found}")
    text = text.replace(old, new)


edit(
    "on:\n  pull_request:\n  push:\n",
    """on:
  # module-enet (ci/dist-generate.sh): pull requests that touch the release path and manual
  # runs build and smoke-test every archive and publish nothing.
  pull_request:
    paths:
      - ".github/workflows/release.yml"
      - ".github/workflows/release-smoke.yml"
      - ".github/workflows/publish-luarocks.yml"
      - "dist-workspace.toml"
      - "dist/**"
      - "Cargo.toml"
      - "Cargo.lock"
      - "build.rs"
      - "luarocks/**"
      - "rockspecs/**"
      - "ci/dist-*"
  workflow_dispatch:
  push:
""",
    1,
)
edit("!github.event.pull_request", "github.event_name == 'push'", 4)
edit(
    "    uses: $/.github/workflows/release-smoke.yml\n    with:\n      plan: ${{ needs.plan.outputs.val }}\n    secrets: inherit\n",
    "    uses: $/.github/workflows/release-smoke.yml\n    with:\n      plan: ${{ needs.plan.outputs.val }}\n",
    1,
)
edit(
    "    uses: $/.github/workflows/publish-luarocks.yml\n    with:\n      plan: ${{ needs.plan.outputs.val }}\n    secrets: inherit\n",
    "    uses: $/.github/workflows/publish-luarocks.yml\n    with:\n      plan: ${{ needs.plan.outputs.val }}\n"
    "    secrets:\n      LUAROCKS_API_KEY: ${{ secrets.LUAROCKS_API_KEY }}\n",
    1,
)
if "secrets: inherit" in text:
    sys.exit("dist-generate: a job still gets `secrets: inherit`")
edit(
    "    env:\n      GH_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n      BUILD_MANIFEST_NAME:",
    """    env:
      GH_TOKEN: ${{ secrets.GITHUB_TOKEN }}
      # module-enet (ci/dist-generate.sh): as .cargo/config.toml, which cargo-dist's builds ignore.
      RUSTFLAGS: --cfg poly1305_backend="soft"
      BUILD_MANIFEST_NAME:""",
    2,
)

open(sys.argv[2], "w", encoding="utf-8").write(text)
EOF

if $check; then
  if diff -u .github/workflows/release.yml "$work/release.yml"; then
    echo "dist-generate: .github/workflows/release.yml is up to date"
  else
    echo "dist-generate: .github/workflows/release.yml is stale (run bash ci/dist-generate.sh)" >&2
    exit 1
  fi
else
  cp "$work/release.yml" .github/workflows/release.yml
  echo "dist-generate: wrote .github/workflows/release.yml"
fi
