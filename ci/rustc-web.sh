# shellcheck shell=bash
# Sourced by ci/suites.d/cross.sh and wine.sh: Debian's rustc-web toolchain, for targets rustup
# has no std for here (docs/windows.md). rustc-web is a current rustc with its library source
# (rust-web-src), so -Zbuild-std builds any target's std from source.
#
#   rustc_web_setup [EXTRA_PACKAGE...]   installs what is missing (as root, through apt), then
#                                        exports RUSTC, RUSTDOC, CARGO and RUSTC_BOOTSTRAP;
#                                        returns non-zero when the toolchain is not usable.

rustc_web_setup() {
  local packages=(rustc-web cargo-web rust-web-src "$@") missing=() p
  # rustc-web is in bookworm-security; the plain bookworm one (1.85) is older than our
  # rust-version, so the package lists must be fresh before installing it.
  if ! dpkg -s rust-web-clippy >/dev/null 2>&1; then packages+=(rust-web-clippy); fi
  for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    local install=()
    for p in "${missing[@]}"; do
      # rust-web-clippy is optional: the suites say so when it is absent.
      if [ "$p" = rust-web-clippy ] && ! apt-cache show rust-web-clippy >/dev/null 2>&1; then continue; fi
      install+=("$p")
    done
    if [ ${#install[@]} -gt 0 ]; then
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${install[@]}" >/dev/null
    fi
  fi
  if ! [ -x /usr/bin/rustc ] || ! [ -x /usr/bin/cargo ] || ! [ -d /usr/lib/rustlib/src/rust/library ]; then
    echo "Debian's rustc-web, cargo-web and rust-web-src are needed (apt-get install them as root)"
    return 1
  fi
  # ~/.cargo/bin (rustup) comes first on PATH: name Debian's tools explicitly. RUSTC_BOOTSTRAP
  # lets this stable rustc take -Zbuild-std.
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc CARGO=/usr/bin/cargo RUSTC_BOOTSTRAP=1
  /usr/bin/rustc -V
}
