//! Link arguments for the loadable module.
//!
//! mlua's `module` feature links no Lua: the interpreter that loads the library provides the
//! `lua_*` symbols. GNU ld allows undefined symbols in a shared library by default, Apple's ld
//! does not, and mlua does not add the flag. It is emitted here rather than in
//! `.cargo/config.toml` because cargo-dist always sets RUSTFLAGS, which replaces config
//! rustflags. The per-flavour release packages in `dist/` run this same file.

use std::env;
use std::path::PathBuf;

fn main() {
    // Without a rerun-if line cargo reruns this on any change in the package; the script
    // only depends on itself and the target. The wrappers in dist/ reach it as ../../build.rs.
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let own = dir.join("build.rs");
    let script = if own.exists() {
        own
    } else {
        dir.join("../../build.rs")
    };
    println!("cargo:rerun-if-changed={}", script.display());

    // Harmless for a vendored build, where every Lua symbol is defined in the library itself.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("macos") {
        println!("cargo:rustc-cdylib-link-arg=-undefined");
        println!("cargo:rustc-cdylib-link-arg=dynamic_lookup");
    }
}
