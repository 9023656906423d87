-- A headless LÖVE game for the interop suite: no window, graphics, audio or input, so it runs
-- in CI without a display (checked: Debian's love 11.4 with DISPLAY unset).
function love.conf(t)
  t.identity = "module_enet_interop"
  t.window = false
  for _, name in ipairs({
    "audio", "data", "event", "font", "graphics", "image", "joystick", "keyboard", "math",
    "mouse", "physics", "sound", "system", "thread", "timer", "touch", "video", "window",
  }) do
    t.modules[name] = false
  end
end
