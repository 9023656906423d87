//! Builds the module table: every function in procedural form (`enet.host_service`) and, where
//! it acts on an object, as a method (`host:service`).
//!
//! Each function written on mlua is wrapped in a four-line Lua closure that turns our misuse
//! sentinel into `error(message, 2)`, so argument errors are plain strings pointing at the
//! caller's line, like the standard library's (see `error.rs`). Raw functions (src/object.rs)
//! raise the same strings themselves and are exported as they are.

use std::os::raw::c_int;

use mlua::state::RawLua;
use mlua::{
    ffi, FromLuaMulti, Function, IntoLuaMulti, LightUserData, Lua, MultiValue, Table, Value,
};

use crate::error::{Error, Result};
use crate::object;

const WRAPPER: &str = r#"
local ERR, error = ...
-- `check` is reached by a tail call, so it returns exactly what the Rust function returned.
-- The wrapper's frame is gone then: the caller is level 2, except on PUC Lua 5.1, which
-- counts the vanished frame as a level of its own.
local level = (_VERSION == "Lua 5.1" and not rawget(_G, "jit")) and 3 or 2
local select = select
local function check(...)
  if ... == ERR then error((select(2, ...)), level) end
  return ...
end
return function(f)
  return function(...)
    return check(f(...))
  end
end
"#;

/// The classes that have methods, and the registry keys of their method tables.
const CLASSES: [&str; 4] = ["host", "peer", "packet", "request"];

static SENTINEL: u8 = 0;

fn sentinel() -> Value {
    Value::LightUserData(LightUserData(
        std::ptr::addr_of!(SENTINEL).cast_mut().cast(),
    ))
}

fn registry_key(class: &str) -> String {
    format!("module_enet.{class}.methods")
}

/// The `__index` table of a class, as built by the last `require` in this Lua state.
pub fn class_methods(lua: &Lua, class: &str) -> mlua::Result<Value> {
    lua.named_registry_value(&registry_key(class))
}

/// What a wrapped Rust function hands back to its Lua wrapper. Pushed straight onto the Lua
/// stack: going through `MultiValue` would allocate a `VecDeque` on every call.
enum Reply<R> {
    Done(R),
    Misuse(String),
}

impl<R: IntoLuaMulti> IntoLuaMulti for Reply<R> {
    fn into_lua_multi(self, lua: &Lua) -> mlua::Result<MultiValue> {
        match self {
            Reply::Done(r) => r.into_lua_multi(lua),
            Reply::Misuse(message) => (sentinel(), message).into_lua_multi(lua),
        }
    }

    unsafe fn push_into_stack_multi(self, lua: &RawLua) -> mlua::Result<c_int> {
        // SAFETY: forwards to mlua's own implementations with the same stack contract.
        unsafe {
            match self {
                Reply::Done(r) => r.push_into_stack_multi(lua),
                Reply::Misuse(message) => (sentinel(), message).push_into_stack_multi(lua),
            }
        }
    }
}

pub struct Registry<'lua> {
    lua: &'lua Lua,
    exports: Table,
    classes: Vec<(&'static str, Table)>,
    wrap: Function,
}

impl<'lua> Registry<'lua> {
    pub fn new(lua: &'lua Lua, exports: Table) -> mlua::Result<Self> {
        let factory: Function = lua.load(WRAPPER).set_name("=module_enet").into_function()?;
        let error: Function = lua.globals().raw_get("error")?;
        let wrap: Function = factory.call((sentinel(), error))?;
        let mut classes = Vec::new();
        for class in CLASSES {
            // Reuse the table a previous `require` made: userdata metatables captured it, so
            // methods and procedural functions stay the same values after a re-require.
            let methods = match lua.named_registry_value::<Option<Table>>(&registry_key(class))? {
                Some(t) => t,
                None => lua.create_table()?,
            };
            lua.set_named_registry_value(&registry_key(class), &methods)?;
            classes.push((class, methods));
        }
        Ok(Registry {
            lua,
            exports,
            classes,
            wrap,
        })
    }

    /// The method table of `class` ("host", "peer", "packet" or "request").
    pub fn methods(&self, class: &str) -> Option<&Table> {
        self.classes
            .iter()
            .find(|(c, _)| *c == class)
            .map(|(_, t)| t)
    }

    /// The Rust function as Lua sees it before any wrapper: misuse comes back as the sentinel.
    fn raw<A, R, F>(&self, f: F) -> mlua::Result<Function>
    where
        A: FromLuaMulti,
        R: IntoLuaMulti,
        F: Fn(&Lua, A) -> Result<R> + 'static,
    {
        self.lua
            .create_function(move |lua, args: A| match f(lua, args) {
                Ok(r) => Ok(Reply::Done(r)),
                Err(Error::Misuse(message)) => Ok(Reply::Misuse(message)),
                Err(Error::Lua(e)) => Err(e),
            })
    }

    fn wrapped<A, R, F>(&self, f: F) -> mlua::Result<Function>
    where
        A: FromLuaMulti,
        R: IntoLuaMulti,
        F: Fn(&Lua, A) -> Result<R> + 'static,
    {
        self.wrap.call(self.raw(f)?)
    }

    /// A module-level function only (`host_create`).
    pub fn function<A, R, F>(&mut self, name: &str, f: F) -> mlua::Result<()>
    where
        A: FromLuaMulti,
        R: IntoLuaMulti,
        F: Fn(&Lua, A) -> Result<R> + 'static,
    {
        let func = self.wrapped(f)?;
        self.exports.raw_set(name, func)
    }

    /// A function that is also a method of its class: `peer_send` is `peer:send`.
    pub fn method<A, R, F>(&mut self, name: &str, f: F) -> mlua::Result<()>
    where
        A: FromLuaMulti,
        R: IntoLuaMulti,
        F: Fn(&Lua, A) -> Result<R> + 'static,
    {
        let func = self.wrapped(f)?;
        self.export_method(name, func)
    }

    /// A raw function, module-level only (`packet_create`).
    pub fn raw_function(&mut self, name: &str, f: ffi::lua_CFunction) -> mlua::Result<()> {
        let func = object::function(self.lua, f, ())?;
        self.exports.raw_set(name, func)
    }

    /// A raw function that is also a method of its class.
    pub fn raw_method(&mut self, name: &str, f: ffi::lua_CFunction) -> mlua::Result<()> {
        let func = object::function(self.lua, f, ())?;
        self.export_method(name, func)
    }

    fn export_method(&mut self, name: &str, func: Function) -> mlua::Result<()> {
        if let Some((class, method)) = name.split_once('_') {
            if let Some((_, methods)) = self.classes.iter().find(|(c, _)| *c == class) {
                methods.raw_set(method, &func)?;
            }
        }
        self.exports.raw_set(name, func)
    }
}
