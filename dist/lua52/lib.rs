//! The Lua 5.2 flavour of module-enet, for release archives. Naming the root crate links it, and
//! with it its `luaopen_module_enet` entry point, into this cdylib.

pub use module_enet::module;
