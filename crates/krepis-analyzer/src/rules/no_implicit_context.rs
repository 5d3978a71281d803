//! `no-implicit-context`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Options {
    /// More implicit-context packages to ban.
    #[serde(default)]
    pub packages: Vec<String>,
}
