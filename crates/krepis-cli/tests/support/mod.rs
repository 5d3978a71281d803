pub mod fixtures;
pub mod lsp_client;
