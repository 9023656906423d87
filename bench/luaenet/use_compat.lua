-- Loaded with `-l use_compat` before a lua-enet program: the one line a game adds to run its
-- lua-enet code on module_enet (docs/lua-enet.md, "Switching with one line").
package.preload.enet = function() return require("module_enet.compat") end
