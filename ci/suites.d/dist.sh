#!/usr/bin/env bash
# Distribution suite (docs/distribution.md): cargo-dist archives for Linux x86_64, LuaRocks
# installs of the release rockspec from a local server under lua5.1-5.4 and LuaJIT, the cargo
# fallback on a bad checksum, `dist plan`, actionlint. Ends with "N passed, N failed".
exec bash "$(dirname "$0")/../dist-local-test.sh"
