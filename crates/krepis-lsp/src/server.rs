//! The protocol side: documents, requests and notifications, translated to the analysis.
//!
//! The server holds the one mutable [`Workspace`]; every answer is computed on a blocking thread
//! from a [`Snapshot`], inside `salsa::Cancelled::catch`, so an edit cancels stale work and the
//! stale answer is dropped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use krepis_analyzer::diagnostic::{Diagnostic, TextRange};
use krepis_analyzer::fix::merged_fix_edits;
use krepis_analyzer::line_index::ColumnUnit;
use krepis_analyzer::workspace::{Snapshot, read_source};
use krepis_analyzer::{LoadOptions, Workspace};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::convert::{self, Text};
use crate::generate::{self, ClientSupport};
use krepis_analyzer::db::SourceFile;
use krepis_analyzer::suppressions;
use krepis_kernel::custom_rules;

/// The code action kind of "fix everything in this file on save".
pub const FIX_ALL_KIND: &str = "source.fixAll.krepis";

/// LSP 3.17 `ServerCancelled`: the server cancelled the request (here: outdated by an edit).
const SERVER_CANCELLED: i64 = -32802;

/// The command behind a refused generator action for clients that cannot show it disabled:
/// running it shows the reason.
pub const EXPLAIN_REFUSAL: &str = "krepis.explainRefusal";

/// Settings files whose change means the whole workspace is re-read.
const SETTINGS_FILES: [&str; 4] = ["krepis.json", "deno.json", "deno.jsonc", "tsconfig.json"];

#[derive(Debug, Clone)]
struct Document {
    text: String,
    version: i32,
}

#[derive(Default)]
struct State {
    workspace: Option<Workspace>,
}

type Documents = Arc<Mutex<HashMap<PathBuf, Document>>>;

/// The language server.
pub struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    /// Open documents, updated in arrival order before anything else happens.
    documents: Documents,
    /// What was last pushed per file, to publish only what changed.
    published: Mutex<HashMap<PathBuf, Arc<Vec<Diagnostic>>>>,
    roots: Mutex<Vec<PathBuf>>,
    unit: Mutex<ColumnUnit>,
    /// The client pulls diagnostics (`textDocument/diagnostic`); then nothing is pushed.
    pull: AtomicBool,
    progress: AtomicBool,
    watch_registration: AtomicBool,
    /// Bumped by every change; a push computed for an older generation is dropped.
    generation: Arc<AtomicU64>,
    /// Signalled after every change of the workspace (held workspace pulls wake up).
    changed: tokio::sync::Notify,
    /// Becomes true once the first indexing is over; requests wait for it.
    ready: tokio::sync::watch::Sender<bool>,
    /// What the client's workspace edits and code actions support.
    support: Mutex<ClientSupport>,
    /// A workspace is loaded: an analysis that answers nothing was cancelled.
    loaded: AtomicBool,
    /// Generator changes already checked against the rules, by hash, for one generation.
    previews: Mutex<(u64, HashMap<u64, Option<String>>)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn path_of(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

fn uri_of(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

fn is_settings_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| SETTINGS_FILES.contains(&n))
}

/// A module's diagnostics: the rules' from the database, then the project's own rules'
/// (`.krepis/rules/`, run in the kernel; files that do not parse are left to `syntax-error`).
fn diagnostics_of(s: &Snapshot, file: SourceFile) -> Arc<Vec<Diagnostic>> {
    let path = s.path(file);
    let config = s.config_for(&path);
    // Files the config ignores (tests, declarations) are known, never reported: as in the CLI.
    if config.is_ignored(&path) {
        return Arc::new(Vec::new());
    }
    let built_in = s.diagnostics(file);
    let rules = custom_rules::load_cached(&config.dir);
    let facts = s.facts(file);
    let all = if rules.is_empty() || !facts.syntax_errors.is_empty() {
        built_in
    } else {
        let relative = config
            .relative(&path)
            .unwrap_or_else(|| krepis_analyzer::config::slash_path(&path));
        let custom = custom_rules::check_module_cached(&rules, &relative, &facts, &s.text(file));
        let custom = suppressions::apply_custom(&facts, &config, custom.to_vec());
        if custom.is_empty() {
            built_in
        } else {
            let mut all: Vec<Diagnostic> = built_in.iter().chain(custom.iter()).cloned().collect();
            all.sort_by_key(|d| (d.range.start, d.range.end));
            Arc::new(all)
        }
    };
    if all.is_empty() {
        return all;
    }
    crate::baseline::mark(&config.dir, &path, &s.text(file), &all)
}

/// Runs `work` on a snapshot, on a blocking thread; `None` before the workspace is loaded, when
/// the analysis was cancelled by a newer edit, or when it failed (logged; the server goes on).
///
/// The snapshot is taken and dropped on that thread: an edit waiting for snapshots to go away
/// never waits for the thread that serves the protocol.
async fn analyse<T: Send + 'static>(
    client: &Client,
    state: &Arc<Mutex<State>>,
    work: impl FnOnce(&Snapshot) -> T + Send + 'static,
) -> Option<T> {
    let state = state.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let snapshot = lock(&state).workspace.as_ref().map(Workspace::snapshot)?;
        // Only read, and dropped when cancelled: nothing half-updated is seen again.
        salsa::Cancelled::catch(std::panic::AssertUnwindSafe(|| work(&snapshot))).ok()
    })
    .await;
    match outcome {
        Ok(value) => value,
        Err(error) => {
            client
                .log_message(
                    MessageType::ERROR,
                    format!("krepis: analysis failed: {error}"),
                )
                .await;
            None
        }
    }
}

impl Backend {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            state: Arc::default(),
            documents: Arc::default(),
            published: Mutex::default(),
            roots: Mutex::default(),
            unit: Mutex::new(ColumnUnit::Utf16),
            pull: AtomicBool::new(false),
            progress: AtomicBool::new(false),
            watch_registration: AtomicBool::new(false),
            generation: Arc::default(),
            ready: tokio::sync::watch::Sender::new(false),
            changed: tokio::sync::Notify::new(),
            support: Mutex::default(),
            previews: Mutex::default(),
            loaded: AtomicBool::new(false),
        }
    }

    /// Waits until the workspace has been indexed once.
    async fn wait_ready(&self) {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|ready| *ready).await;
    }

    /// A message the transport guard could not pass on: logged, otherwise ignored.
    pub async fn malformed_message(&self, params: serde_json::Value) {
        let reason = params
            .get("reason")
            .and_then(|r| r.as_str())
            .unwrap_or("a malformed message");
        self.client
            .log_message(MessageType::WARNING, format!("krepis: ignored {reason}"))
            .await;
    }

    fn unit(&self) -> ColumnUnit {
        *self.unit.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies a mutation to the workspace on a blocking thread: an edit waits there for running
    /// analyses to unwind, while the server goes on reading and writing messages.
    async fn mutate(
        &self,
        change: impl FnOnce(&mut State, &HashMap<PathBuf, Document>) + Send + 'static,
    ) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let state = self.state.clone();
        let documents = self.documents.clone();
        let done = tokio::task::spawn_blocking(move || {
            let mut state = lock(&state);
            change(&mut state, &lock(&documents));
        })
        .await;
        self.changed.notify_waiters();
        if let Err(error) = done {
            self.client
                .log_message(
                    MessageType::ERROR,
                    format!("krepis: update failed: {error}"),
                )
                .await;
        }
    }

    /// Lays the current text of an open document (or the file on disk) over the workspace.
    async fn sync_document(&self, path: PathBuf) {
        self.mutate(move |state, documents| {
            let Some(workspace) = &mut state.workspace else {
                return;
            };
            match documents.get(&path) {
                Some(document) => {
                    workspace.set_text(&path, &document.text);
                }
                // Closed: the file on disk is the truth again (or it is gone).
                None => match read_source(&path) {
                    Ok(text) => {
                        workspace.set_text(&path, &text);
                    }
                    Err(_) => workspace.remove(&path),
                },
            }
        })
        .await;
    }

    /// (Re)reads the workspace from disk with progress, then lays the open documents over it.
    async fn index(&self) {
        let roots = self.roots.lock().map(|r| r.clone()).unwrap_or_default();
        // Progress runs beside the work, never in its way: the client's answer to
        // `window/workDoneProgress/create` arrives through the same input as the requests waiting
        // for the index, and when enough of those wait, the server reads no further input. So
        // nothing the index needs may wait for an answer from the client.
        let (done_sender, done) = tokio::sync::oneshot::channel::<String>();
        if self.progress.load(Ordering::SeqCst) {
            let client = self.client.clone();
            tokio::spawn(async move {
                let token = NumberOrString::String("krepis/indexing".into());
                if client
                    .create_work_done_progress(token.clone())
                    .await
                    .is_err()
                {
                    return;
                }
                let progress = client
                    .progress(token, "Krepis")
                    .with_message("indexing the workspace")
                    .begin()
                    .await;
                let message = done.await.unwrap_or_default();
                progress.finish_with_message(message).await;
            });
        }
        let base = roots
            .first()
            .cloned()
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
        let options = LoadOptions {
            config_file: None,
            base_dir: base,
            cache: None,
            // Files on disk are read again when their text is needed (findings to show, an
            // edit); open documents get theirs from the editor just below.
            lean: true,
        };
        let loaded = tokio::task::spawn_blocking(move || Workspace::load(&roots, &options)).await;
        let message = match loaded {
            Ok(Ok(mut workspace)) => {
                workspace.type_every_receiver();
                let count = workspace.checked_files().len();
                self.mutate(move |state, documents| {
                    for (path, document) in documents {
                        workspace.set_text(path, &document.text);
                    }
                    state.workspace = Some(workspace);
                })
                .await;
                self.loaded.store(true, Ordering::SeqCst);
                format!("indexed {count} files")
            }
            Ok(Err(error)) => {
                let message = format!("krepis: {error}");
                self.client.show_message(MessageType::ERROR, &message).await;
                self.client.log_message(MessageType::ERROR, &message).await;
                message
            }
            Err(error) => format!("krepis: indexing failed: {error}"),
        };
        self.ready.send_replace(true);
        // Check every module once (the work of indexing), so the first answers are fast.
        let _ = analyse(&self.client, &self.state, |s| {
            for file in s.files() {
                diagnostics_of(s, file);
            }
        })
        .await;
        let _ = done_sender.send(message);
        self.publish(None).await;
    }

    /// Pushes diagnostics (for clients that do not pull): `first` right away, then every other
    /// file whose diagnostics changed.
    async fn publish(&self, first: Option<PathBuf>) {
        if self.pull.load(Ordering::SeqCst) {
            // Not awaited: the answer arrives through the input that this handler holds up.
            let client = self.client.clone();
            tokio::spawn(async move { client.workspace_diagnostic_refresh().await });
            return;
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let unit = self.unit();
        if let Some(path) = first {
            let report = analyse(&self.client, &self.state, move |s| {
                let file = s.file(&path)?;
                Some((path, s.text(file), diagnostics_of(s, file)))
            })
            .await
            .flatten();
            if let Some((path, text, diagnostics)) = report {
                self.push(path, &text, diagnostics, unit, generation).await;
            }
        }
        let changed = {
            let previous: HashMap<PathBuf, Arc<Vec<Diagnostic>>> = lock(&self.published).clone();
            analyse(&self.client, &self.state, move |s| {
                s.files()
                    .into_iter()
                    .filter_map(|file| {
                        let path = s.path(file);
                        let diagnostics = diagnostics_of(s, file);
                        let same = previous.get(&path).is_some_and(|old| **old == *diagnostics);
                        let nothing = diagnostics.is_empty() && !previous.contains_key(&path);
                        (!same && !nothing).then(|| (path, s.text(file), diagnostics))
                    })
                    .collect::<Vec<_>>()
            })
            .await
        };
        for (path, text, diagnostics) in changed.into_iter().flatten() {
            self.push(path, &text, diagnostics, unit, generation).await;
        }
    }

    async fn push(
        &self,
        path: PathBuf,
        text: &str,
        diagnostics: Arc<Vec<Diagnostic>>,
        unit: ColumnUnit,
        generation: u64,
    ) {
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        let Some(uri) = uri_of(&path) else { return };
        let converter = Text::new(text, unit);
        let items = diagnostics
            .iter()
            .map(|d| convert::diagnostic(&converter, d))
            .collect();
        let version = lock(&self.documents).get(&path).map(|d| d.version);
        lock(&self.published).insert(path, diagnostics);
        self.client.publish_diagnostics(uri, items, version).await;
    }

    /// The text and diagnostics of a document, from a fresh snapshot.
    async fn file_report(&self, uri: &Uri) -> Option<(PathBuf, Arc<str>, Arc<Vec<Diagnostic>>)> {
        self.file_report_or_cancelled(uri).await.ok().flatten()
    }

    /// [`Backend::file_report`], telling apart an unknown file (`Ok(None)`) from an analysis that
    /// a newer edit cancelled (`Err`), once the workspace is loaded.
    async fn file_report_or_cancelled(
        &self,
        uri: &Uri,
    ) -> std::result::Result<Option<(PathBuf, Arc<str>, Arc<Vec<Diagnostic>>)>, ()> {
        let Some(path) = path_of(uri) else {
            return Ok(None);
        };
        self.wait_ready().await;
        let report = analyse(&self.client, &self.state, move |s| {
            let file = s.file(&path)?;
            Some((path, s.text(file), diagnostics_of(s, file)))
        })
        .await;
        match report {
            Some(report) => Ok(report),
            None if self.loaded.load(Ordering::SeqCst) => Err(()),
            None => Ok(None),
        }
    }

    /// The generator actions for `range` of the file at `path`: generators run on a snapshot;
    /// their changes are then checked against the rules by previewing them in the database
    /// (put back at once), unless the same changes were checked since the last edit.
    /// The edit that turns `text` into the file with all its safe fixes applied in rounds, or
    /// `None` when the workspace is busy or nothing changes.
    async fn fixed_edit(
        &self,
        path: PathBuf,
        text: &str,
        converter: &Text<'_>,
    ) -> Option<Vec<TextEdit>> {
        let state = self.state.clone();
        let fixed = tokio::task::spawn_blocking(move || {
            let mut state = lock(&state);
            let workspace = state.workspace.as_mut()?;
            let dir = workspace.config_for(&path).dir.clone();
            // What the baseline accepts is left as it is, as `krepis fix` leaves it.
            let keep = |text: &str, found| crate::baseline::unaccepted(&dir, &path, text, found);
            workspace.fixed_text_keeping(&path, false, &keep)
        })
        .await
        .ok()??;
        // The rounds set inputs and put them back; analyses they cancelled are redone.
        self.publish(None).await;
        if fixed == text {
            return None;
        }
        // One edit over the part that changed: the rest of the buffer (and the cursor) stays.
        let prefix = text
            .char_indices()
            .zip(fixed.chars())
            .find(|((_, a), b)| a != b)
            .map_or(text.len().min(fixed.len()), |((i, _), _)| i);
        let suffix = text[prefix..]
            .chars()
            .rev()
            .zip(fixed[prefix..].chars().rev())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum::<usize>();
        let range = TextRange::new(prefix as u32, (text.len() - suffix) as u32);
        let edit = krepis_analyzer::diagnostic::TextEdit {
            range,
            text: fixed[prefix..fixed.len() - suffix].to_string(),
        };
        Some(vec![converter.edit(&edit)])
    }

    async fn generator_actions(&self, path: PathBuf, range: TextRange) -> Vec<CodeAction> {
        let Some(mut offers) = analyse(&self.client, &self.state, move |s| {
            generate::offers(s, &path, range)
        })
        .await
        else {
            return Vec::new();
        };
        let generation = self.generation.load(Ordering::SeqCst);
        let key = |offer: &generate::Offer| {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            offer.title.hash(&mut hasher);
            if let Ok(planned) = &offer.outcome {
                for p in planned {
                    p.path.hash(&mut hasher);
                    p.after.hash(&mut hasher);
                }
            }
            hasher.finish()
        };
        let mut unchecked = Vec::new();
        {
            let mut previews = lock(&self.previews);
            if previews.0 != generation {
                *previews = (generation, HashMap::new());
            }
            for (index, offer) in offers.iter_mut().enumerate() {
                if offer.outcome.is_err() {
                    continue;
                }
                match previews.1.get(&key(offer)) {
                    Some(Some(reason)) => offer.outcome = Err(reason.clone()),
                    Some(None) => {}
                    None => unchecked.push(index),
                }
            }
        }
        if !unchecked.is_empty() {
            let state = self.state.clone();
            let mut batch: Vec<generate::Offer> =
                unchecked.iter().map(|&i| offers[i].clone()).collect();
            // Only edits of existing files set inputs (new files are previewed detached).
            let sets_inputs = batch.iter().any(|offer| {
                offer
                    .outcome
                    .as_ref()
                    .is_ok_and(|planned| planned.iter().any(|p| p.before.is_some()))
            });
            let checked = tokio::task::spawn_blocking(move || {
                let mut state = lock(&state);
                let workspace = state.workspace.as_mut()?;
                generate::check(workspace, &mut batch);
                Some(batch)
            })
            .await;
            let Ok(Some(checked)) = checked else {
                return Vec::new();
            };
            {
                let mut previews = lock(&self.previews);
                for (index, offer) in unchecked.into_iter().zip(checked) {
                    if previews.0 == generation {
                        let hash = key(&offers[index]);
                        previews
                            .1
                            .insert(hash, offer.outcome.as_ref().err().cloned());
                    }
                    offers[index] = offer;
                }
            }
            // The preview set inputs and put them back; analyses it cancelled are redone.
            if sets_inputs {
                self.publish(None).await;
            }
        }
        let unit = self.unit();
        let support = *lock(&self.support);
        let versions: HashMap<PathBuf, i32> = lock(&self.documents)
            .iter()
            .map(|(path, d)| (path.clone(), d.version))
            .collect();
        offers
            .iter()
            .filter_map(|offer| generate::code_action(offer, unit, &versions, support))
            .collect()
    }

    async fn register_watchers(&self) {
        if !self.watch_registration.load(Ordering::SeqCst) {
            return;
        }
        let pattern = |glob: &str| FileSystemWatcher {
            glob_pattern: GlobPattern::String(glob.into()),
            kind: None,
        };
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![
                pattern("**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}"),
                pattern("**/{krepis.json,deno.json,deno.jsonc,tsconfig.json}"),
                pattern("**/krepis-baseline.json"),
            ],
        };
        let registration = Registration {
            id: "krepis-watched-files".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(options).ok(),
        };
        // Not awaited here: see `index`.
        let client = self.client.clone();
        tokio::spawn(async move {
            if let Err(error) = client.register_capability(vec![registration]).await {
                client
                    .log_message(
                        MessageType::WARNING,
                        format!("krepis: cannot watch files: {error}"),
                    )
                    .await;
            }
        });
    }
}

/// A stable name for a set of diagnostics: equal sets, equal ids (clients send it back).
fn result_id(diagnostics: &[Diagnostic]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    diagnostics.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn full_report(
    items: Vec<tower_lsp_server::ls_types::Diagnostic>,
    result_id: Option<String>,
) -> DocumentDiagnosticReportResult {
    DocumentDiagnosticReportResult::Report(DocumentDiagnosticReport::Full(
        RelatedFullDocumentDiagnosticReport {
            related_documents: None,
            full_document_diagnostic_report: FullDocumentDiagnosticReport { result_id, items },
        },
    ))
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|folder| path_of(&folder.uri))
            .collect();
        #[allow(deprecated)]
        if roots.is_empty()
            && let Some(root) = params.root_uri.as_ref().and_then(path_of)
        {
            roots.push(root);
        }
        if let Ok(mut slot) = self.roots.lock() {
            *slot = roots;
        }
        // `{ "baseline": "hint" | "hide" }`: how findings the baseline accepts are shown.
        let hide = params
            .initialization_options
            .as_ref()
            .and_then(|o| o.get("baseline"))
            .and_then(|v| v.as_str())
            == Some("hide");
        crate::baseline::set_mode(if hide {
            crate::baseline::Mode::Hide
        } else {
            crate::baseline::Mode::Hint
        });
        let capabilities = &params.capabilities;
        let utf8 = capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|encodings| encodings.contains(&PositionEncodingKind::UTF8));
        if let Ok(mut unit) = self.unit.lock() {
            *unit = if utf8 {
                ColumnUnit::Utf8
            } else {
                ColumnUnit::Utf16
            };
        }
        let pull = capabilities
            .text_document
            .as_ref()
            .is_some_and(|t| t.diagnostic.is_some());
        self.pull.store(pull, Ordering::SeqCst);
        let progress = capabilities
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false);
        self.progress.store(progress, Ordering::SeqCst);
        let watch = capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.watch_registration.store(watch, Ordering::SeqCst);
        let edits = capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.workspace_edit.as_ref());
        let create_files = edits.is_some_and(|e| {
            e.document_changes == Some(true)
                && e.resource_operations
                    .as_ref()
                    .is_some_and(|ops| ops.contains(&ResourceOperationKind::Create))
        });
        let disabled = capabilities
            .text_document
            .as_ref()
            .and_then(|t| t.code_action.as_ref())
            .and_then(|c| c.disabled_support)
            .unwrap_or(false);
        *lock(&self.support) = ClientSupport {
            create_files,
            disabled,
        };

        let code_action_kinds = vec![
            CodeActionKind::QUICKFIX,
            CodeActionKind::SOURCE_FIX_ALL,
            CodeActionKind::from(FIX_ALL_KIND.to_string()),
            CodeActionKind::REFACTOR_EXTRACT,
            CodeActionKind::REFACTOR_REWRITE,
        ];
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "krepis".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                position_encoding: Some(if utf8 {
                    PositionEncodingKind::UTF8
                } else {
                    PositionEncodingKind::UTF16
                }),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..Default::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(code_action_kinds),
                        ..Default::default()
                    },
                )),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![EXPLAIN_REFUSAL.into()],
                    ..Default::default()
                }),
                diagnostic_provider: Some(DiagnosticServerCapabilities::Options(
                    DiagnosticOptions {
                        identifier: Some("krepis".into()),
                        inter_file_dependencies: true,
                        workspace_diagnostics: true,
                        ..Default::default()
                    },
                )),
                ..Default::default()
            },
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        self.register_watchers().await;
        self.index().await;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let Some(path) = path_of(&params.text_document.uri) else {
            return;
        };
        let document = Document {
            text: params.text_document.text,
            version: params.text_document.version,
        };
        lock(&self.documents).insert(path.clone(), document);
        self.sync_document(path.clone()).await;
        self.publish(Some(path)).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let Some(path) = path_of(&params.text_document.uri) else {
            return;
        };
        let unit = self.unit();
        {
            let mut documents = lock(&self.documents);
            let Some(document) = documents.get_mut(&path) else {
                return;
            };
            for change in &params.content_changes {
                convert::apply_change(&mut document.text, change, unit);
            }
            document.version = params.text_document.version;
        }
        self.sync_document(path.clone()).await;
        self.publish(Some(path)).await;
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {}

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let Some(path) = path_of(&params.text_document.uri) else {
            return;
        };
        lock(&self.documents).remove(&path);
        self.sync_document(path.clone()).await;
        self.publish(Some(path)).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let paths: Vec<(PathBuf, FileChangeType)> = params
            .changes
            .iter()
            .filter_map(|c| Some((path_of(&c.uri)?, c.typ)))
            .collect();
        let is_baseline = |p: &PathBuf| {
            p.file_name()
                .is_some_and(|n| n == krepis_analyzer::baseline::FILE_NAME)
        };
        if paths.iter().any(|(p, _)| is_baseline(p)) {
            // What is new and what is accepted changed: every file's findings are shown again.
            crate::baseline::invalidate();
            if paths.iter().all(|(p, _)| is_baseline(p)) {
                self.publish(None).await;
                return;
            }
        }
        if paths.iter().any(|(p, _)| is_settings_file(p)) {
            self.client
                .log_message(MessageType::INFO, "krepis: settings changed; re-indexing")
                .await;
            self.index().await;
            return;
        }
        self.mutate(move |state, documents| {
            let Some(workspace) = &mut state.workspace else {
                return;
            };
            for (path, kind) in paths {
                if documents.contains_key(&path)
                    || !krepis_analyzer::facts::is_checkable_path(&path)
                {
                    continue;
                }
                match (kind, read_source(&path)) {
                    (FileChangeType::DELETED, _) | (_, Err(_)) => workspace.remove(&path),
                    (_, Ok(text)) => {
                        workspace.set_text(&path, &text);
                    }
                }
            }
        })
        .await;
        self.publish(None).await;
    }

    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<DocumentDiagnosticReportResult> {
        let unit = self.unit();
        let report = self
            .file_report_or_cancelled(&params.text_document.uri)
            .await
            .map_err(|()| {
                // Cancelled by an edit: the client pulls again, instead of an empty report
                // clearing the file's problems for a moment.
                Error {
                    code: tower_lsp_server::jsonrpc::ErrorCode::ServerError(SERVER_CANCELLED),
                    message: "the diagnostics were outdated by an edit; pull again".into(),
                    data: Some(serde_json::json!({ "retriggerRequest": true })),
                }
            })?;
        let Some((_, text, diagnostics)) = report else {
            return Ok(full_report(Vec::new(), None));
        };
        let id = result_id(&diagnostics);
        if params.previous_result_id.as_deref() == Some(id.as_str()) {
            return Ok(DocumentDiagnosticReportResult::Report(
                DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
                    related_documents: None,
                    unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                        result_id: id,
                    },
                }),
            ));
        }
        let converter = Text::new(&text, unit);
        let items = diagnostics
            .iter()
            .map(|d| convert::diagnostic(&converter, d))
            .collect();
        Ok(full_report(items, Some(id)))
    }

    async fn workspace_diagnostic(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> Result<WorkspaceDiagnosticReportResult> {
        self.wait_ready().await;
        let unit = self.unit();
        let previous: HashMap<String, String> = params
            .previous_result_ids
            .into_iter()
            .map(|p| (p.uri.as_str().to_string(), p.value))
            .collect();
        // Clients re-ask as soon as they have an answer: when nothing changed, hold the request
        // until something does (or a while passes), instead of answering the same thing again.
        for attempt in 0..2 {
            let changed = self.changed.notified();
            let versions: HashMap<PathBuf, i32> = lock(&self.documents)
                .iter()
                .map(|(p, d)| (p.clone(), d.version))
                .collect();
            let known = previous.clone();
            let items = analyse(&self.client, &self.state, move |s| {
                s.files()
                    .into_iter()
                    .filter_map(|file| {
                        let path = s.path(file);
                        let uri = uri_of(&path)?;
                        let version = versions.get(&path).map(|v| i64::from(*v));
                        let diagnostics = diagnostics_of(s, file);
                        let id = result_id(&diagnostics);
                        if known.get(uri.as_str()) == Some(&id) {
                            return Some(WorkspaceDocumentDiagnosticReport::Unchanged(
                                WorkspaceUnchangedDocumentDiagnosticReport {
                                    uri,
                                    version,
                                    unchanged_document_diagnostic_report:
                                        UnchangedDocumentDiagnosticReport { result_id: id },
                                },
                            ));
                        }
                        let text = s.text(file);
                        let converter = Text::new(&text, unit);
                        let items = diagnostics
                            .iter()
                            .map(|d| convert::diagnostic(&converter, d))
                            .collect();
                        Some(WorkspaceDocumentDiagnosticReport::Full(
                            WorkspaceFullDocumentDiagnosticReport {
                                version,
                                uri,
                                full_document_diagnostic_report: FullDocumentDiagnosticReport {
                                    result_id: Some(id),
                                    items,
                                },
                            },
                        ))
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .ok_or_else(Error::request_cancelled)?;
            let all_unchanged = items
                .iter()
                .all(|i| matches!(i, WorkspaceDocumentDiagnosticReport::Unchanged(_)));
            if attempt == 0 && all_unchanged && !previous.is_empty() {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(30), changed).await;
                continue;
            }
            return Ok(WorkspaceDiagnosticReportResult::Report(
                WorkspaceDiagnosticReport { items },
            ));
        }
        Ok(WorkspaceDiagnosticReportResult::Report(
            WorkspaceDiagnosticReport { items: Vec::new() },
        ))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri.clone();
        let Some((_, text, diagnostics)) = self.file_report(&uri).await else {
            return Ok(None);
        };
        let converter = Text::new(&text, self.unit());
        let wanted = converter.text_range(params.range);
        let only = params.context.only.clone().unwrap_or_default();
        let allows = |kind: &CodeActionKind| {
            only.is_empty()
                || only.iter().any(|o| {
                    kind.as_str() == o.as_str()
                        || kind.as_str().starts_with(&format!("{}.", o.as_str()))
                })
        };
        let workspace_edit = |edits: Vec<TextEdit>| WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), edits)])),
            ..Default::default()
        };
        let mut actions = Vec::new();
        if allows(&CodeActionKind::QUICKFIX) {
            for d in diagnostics.iter() {
                let Some(fix) = &d.fix else { continue };
                let touches = d.range.start <= wanted.end && wanted.start <= d.range.end;
                if !touches {
                    continue;
                }
                // An unsafe fix is offered, said to be unsafe, and never applied on its own.
                let title = if fix.is_safe() {
                    fix.description.clone()
                } else {
                    format!("{} (unsafe: check the callers)", fix.description)
                };
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![convert::diagnostic(&converter, d)]),
                    edit: Some(workspace_edit(
                        fix.edits.iter().map(|e| converter.edit(e)).collect(),
                    )),
                    is_preferred: Some(fix.is_safe()),
                    ..Default::default()
                }));
            }
        }
        if allows(&CodeActionKind::QUICKFIX) {
            let touching: Vec<Diagnostic> = diagnostics
                .iter()
                .filter(|d| d.range.start <= wanted.end && wanted.start <= d.range.end)
                .filter(|d| suppressions::suppressible(d.rule))
                .cloned()
                .collect();
            let facts = match (touching.is_empty(), path_of(&uri)) {
                (false, Some(path)) => analyse(&self.client, &self.state, move |s| {
                    s.file(&path).map(|f| s.facts(f))
                })
                .await
                .flatten(),
                _ => None,
            };
            let mut offered = std::collections::HashSet::new();
            for d in touching.iter().filter(|_| facts.is_some()) {
                let Some(facts) = &facts else { break };
                let rule = d.rule_name();
                for (kind, place) in [
                    (suppressions::SuppressionKind::NextLine, "on this line"),
                    (suppressions::SuppressionKind::File, "in this file"),
                ] {
                    let edit = suppressions::suppress_edit(&text, facts, d, rule, kind);
                    // Two findings of one rule on a line need one suppression, offered once.
                    if !offered.insert((edit.range, edit.text.clone())) {
                        continue;
                    }
                    actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                        title: format!("Suppress `{rule}` {place}"),
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![convert::diagnostic(&converter, d)]),
                        edit: Some(workspace_edit(vec![converter.edit(&edit)])),
                        is_preferred: Some(false),
                        ..Default::default()
                    }));
                }
            }
        }
        let all = merged_fix_edits(&diagnostics);
        if !all.is_empty() {
            let edits: Vec<TextEdit> = all.iter().map(|e| converter.edit(e)).collect();
            let fix_all_kind = CodeActionKind::from(FIX_ALL_KIND.to_string());
            if allows(&fix_all_kind) {
                // Asked for by name (fix-on-save): every round, so the calls in the file pass
                // the parameters the same fix adds. Listing actions stays one cheap round.
                let whole = match (only.is_empty(), path_of(&uri)) {
                    (false, Some(path)) => self.fixed_edit(path, &text, &converter).await,
                    _ => None,
                };
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: "Fix all Krepis problems in this file".into(),
                    kind: Some(fix_all_kind),
                    edit: Some(workspace_edit(whole.unwrap_or_else(|| edits.clone()))),
                    ..Default::default()
                }));
            }
            if only.is_empty()
                || allows(&CodeActionKind::QUICKFIX)
                    && diagnostics
                        .iter()
                        .filter(|d| d.fix_to_apply(false).is_some())
                        .count()
                        > 1
            {
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: "Fix all Krepis problems in this file".into(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    edit: Some(workspace_edit(edits)),
                    ..Default::default()
                }));
            }
        }
        let wants_refactor = only.is_empty()
            || only
                .iter()
                .any(|o| o.as_str() == "refactor" || o.as_str().starts_with("refactor."));
        if wants_refactor && let Some(path) = path_of(&uri) {
            for action in self.generator_actions(path, wanted).await {
                if action.kind.as_ref().is_some_and(&allows) {
                    actions.push(CodeActionOrCommand::CodeAction(action));
                }
            }
        }
        Ok(Some(actions))
    }

    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> Result<Option<serde_json::Value>> {
        if params.command != EXPLAIN_REFUSAL {
            return Err(Error::invalid_params(format!(
                "unknown command `{}`",
                params.command
            )));
        }
        let reason = params
            .arguments
            .first()
            .and_then(|a| a.as_str())
            .unwrap_or("this action cannot be applied here");
        self.client
            .show_message(MessageType::WARNING, format!("krepis: {reason}"))
            .await;
        Ok(None)
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let position = params.text_document_position_params;
        let Some(path) = path_of(&position.text_document.uri) else {
            return Ok(None);
        };
        self.wait_ready().await;
        let unit = self.unit();
        let hover = analyse(&self.client, &self.state, move |s| {
            let file = s.file(&path)?;
            let text = s.text(file);
            let converter = Text::new(&text, unit);
            let offset = converter.offset(position.position);
            let info = s.import_at(file, offset)?;
            let layer = |l: &Option<String>| {
                l.as_deref()
                    .map_or("no layer".to_string(), |l| format!("layer `{l}`"))
            };
            let verdict = match &info.verdict {
                Ok(()) => "allowed".to_string(),
                Err(reason) => format!("**not allowed**: {reason}"),
            };
            let target = info
                .target
                .as_deref()
                .map_or("an external module".to_string(), |t| format!("`{t}`"));
            let value = format!(
                "**krepis** · {} → {}: {verdict}\n\n`{}` resolves to {target}",
                layer(&info.from_layer),
                layer(&info.to_layer),
                info.specifier
            );
            Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value,
                }),
                range: Some(converter.range(info.range)),
            })
        })
        .await
        .flatten();
        Ok(hover)
    }
}
