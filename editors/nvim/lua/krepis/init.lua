-- Krepis for Neovim's built-in LSP client (Neovim 0.7 and newer).
--
--   require("krepis").setup({})                      -- `krepis` on PATH
--   require("krepis").setup({ cmd = { "/path/to/krepis", "lsp" }, fix_on_save = true })

local M = {}

M.defaults = {
  cmd = { "krepis", "lsp" },
  filetypes = { "typescript", "typescriptreact", "javascript", "javascriptreact" },
  -- The project root is the nearest folder above the file holding one of these.
  root_markers = { "krepis.json", "deno.json", "deno.jsonc", "tsconfig.json", "package.json", ".git" },
  -- Apply every Krepis fix (source.fixAll.krepis) before writing a buffer.
  fix_on_save = false,
  -- Passed on to vim.lsp.start_client (on_attach, capabilities, …).
  client = {},
}

local clients = {} -- root folder -> client id
local config = nil

local function exists(path)
  return vim.loop.fs_stat(path) ~= nil
end

--- The nearest folder above `file` that holds a root marker (else the file's folder).
function M.root_dir(file, markers)
  local dir = vim.fn.fnamemodify(file, ":p:h")
  local start = dir
  while dir and dir ~= "" do
    for _, marker in ipairs(markers) do
      if exists(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      break
    end
    dir = parent
  end
  return start
end

--- Starts (or reuses) the server for the buffer's project and attaches the buffer.
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local file = vim.api.nvim_buf_get_name(bufnr)
  if file == "" then
    return nil
  end
  local root = M.root_dir(file, config.root_markers)
  local id = clients[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil then
    local options = vim.tbl_extend("force", {
      name = "krepis",
      cmd = config.cmd,
      root_dir = root,
      workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    }, config.client)
    id = vim.lsp.start_client(options)
    if id == nil then
      vim.notify("krepis: cannot start `" .. table.concat(config.cmd, " ") .. "`", vim.log.levels.ERROR)
      return nil
    end
    clients[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- Applies every Krepis fix in the buffer, synchronously (used before writing).
function M.fix_all(bufnr, timeout_ms)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local params = vim.lsp.util.make_range_params()
  params.textDocument = { uri = vim.uri_from_bufnr(bufnr) }
  params.range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 0 } }
  params.context = { diagnostics = {}, only = { "source.fixAll.krepis" } }
  local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, timeout_ms or 2000)
  for id, response in pairs(responses or {}) do
    local client = vim.lsp.get_client_by_id(id)
    for _, action in ipairs(response.result or {}) do
      if action.edit and client then
        vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding or "utf-16")
      end
    end
  end
end

function M.setup(options)
  config = vim.tbl_deep_extend("force", M.defaults, options or {})
  local group = vim.api.nvim_create_augroup("krepis", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.filetypes,
    callback = function(event)
      M.attach(event.buf)
    end,
  })
  if config.fix_on_save then
    vim.api.nvim_create_autocmd("BufWritePre", {
      group = group,
      callback = function(event)
        if vim.tbl_contains(config.filetypes, vim.bo[event.buf].filetype) then
          M.fix_all(event.buf)
        end
      end,
    })
  end
end

return M
