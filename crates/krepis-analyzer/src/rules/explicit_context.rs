//! `explicit-context`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Options {
    /// Also check async callbacks passed straight to a call.
    #[serde(default)]
    pub check_inline_callbacks: bool,
}
