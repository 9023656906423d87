//! `module-enet script.lua [args...]`: Lua 5.4 with `module_enet` preloaded, so the examples run
//! on a machine with no Lua installed (`cargo run --release -- examples/loopback.lua`).

use std::process::ExitCode;

use mlua::{Lua, Table};

fn run(script: &str, script_args: &[String]) -> mlua::Result<()> {
    let lua = Lua::new();
    let loader = lua.create_function(|lua, ()| module_enet::module(lua))?;
    lua.preload_module("module_enet", loader)?;
    let compat = lua.create_function(|lua, ()| module_enet::compat_module(lua))?;
    lua.preload_module("module_enet.compat", compat)?;
    let arg: Table = lua.create_table()?;
    arg.raw_set(0, script)?;
    for (i, a) in script_args.iter().enumerate() {
        arg.raw_set(i + 1, a.as_str())?;
    }
    lua.globals().raw_set("arg", arg)?;
    let source = std::fs::read(script).map_err(mlua::Error::external)?;
    lua.load(source).set_name(format!("@{script}")).exec()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(script) = args.first() else {
        eprintln!("usage: module-enet SCRIPT.lua [ARGS...]");
        return ExitCode::from(2);
    };
    match run(script, &args[1..]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("module-enet: {e}");
            ExitCode::FAILURE
        }
    }
}
