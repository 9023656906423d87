#!/usr/bin/env bash
# CPU cost of secure mode (src/secure.rs, docs/secure.md) per 64-byte ENet datagram: `send`
# (encrypt into a netcode payload packet) and `receive` (authenticate, decrypt) through the real
# layer, and ChaCha20-Poly1305 alone. Builds bench/secure (src/secure.rs compiled in, seconds)
# twice: as the crates select their backends by default, and with poly1305's portable backend
# (`--cfg poly1305_backend="soft"`), whose per-message set-up is much cheaper than its AVX2
# backend's for datagram-sized messages (docs/secure.md, "Cost"). Prints ns of thread CPU time.
# Not a test and not part of ci/test.sh: the numbers depend on the machine.
#
#   bash bench/secure.sh
set -euo pipefail
cd "$(dirname "$0")/secure"
export CARGO_TERM_COLOR=never
echo "== default backends (poly1305: AVX2 where the CPU has it)"
cargo build --quiet --locked --release --target-dir target/default
target/default/release/module-enet-secure-bench
echo "== poly1305 soft backend"
RUSTFLAGS='--cfg poly1305_backend="soft"' \
  cargo build --quiet --locked --release --target-dir target/soft
target/soft/release/module-enet-secure-bench
