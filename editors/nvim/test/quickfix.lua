-- Headless end-to-end check: open a file, wait for Krepis diagnostics, apply the preferred quick
-- fix through vim.lsp.buf.code_action, write the buffer. Driven by crates/krepis-cli/tests/nvim.rs.
--   KREPIS_BIN, KREPIS_FILE, KREPIS_RULE: the server binary, the file, the diagnostic to fix.
local function fail(message)
  io.stderr:write("krepis nvim test: " .. message .. "\n")
  vim.cmd("cquit 1")
end

vim.cmd("filetype on")
vim.opt.runtimepath:append(vim.env.KREPIS_NVIM_DIR)
require("krepis").setup({ cmd = { vim.env.KREPIS_BIN, "lsp" } })
vim.cmd("edit " .. vim.fn.fnameescape(vim.env.KREPIS_FILE))

local target = nil
local found = vim.wait(30000, function()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.code == vim.env.KREPIS_RULE or (d.user_data and d.user_data.lsp and d.user_data.lsp.code == vim.env.KREPIS_RULE) then
      target = d
      return true
    end
  end
  return false
end, 50)
if not found then
  return fail("no " .. vim.env.KREPIS_RULE .. " diagnostic arrived")
end
print(string.format("diagnostic: %s at %d:%d", target.message:gsub("\n.*", ""), target.lnum + 1, target.col + 1))

-- Choose the preferred action, as a user picking the first suggestion would.
vim.ui.select = function(items, _, on_choice)
  for i, item in ipairs(items) do
    local action = item.action or item[2] or item
    if action.isPreferred then
      return on_choice(item, i)
    end
  end
  on_choice(items[1], 1)
end

vim.api.nvim_win_set_cursor(0, { target.lnum + 1, target.col })
local tick = vim.b.changedtick
vim.lsp.buf.code_action()
if not vim.wait(10000, function() return vim.b.changedtick ~= tick end, 50) then
  return fail("the quick fix changed nothing")
end
vim.cmd("write")
vim.cmd("qall!")
