//! Generator code actions: the kernel's generators run on the selection, their changes are
//! checked against the rules in the database, and what passes becomes a `refactor.*` action whose
//! workspace edit creates files with `CreateFile` and edits others.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use krepis_analyzer::Workspace;
use krepis_analyzer::diagnostic::TextRange;
use krepis_analyzer::line_index::ColumnUnit;
use krepis_analyzer::workspace::Snapshot;
use krepis_kernel::generators::{self, Planned};
use tower_lsp_server::ls_types::*;

use crate::convert::Text;

/// One generator's answer for the selection.
#[derive(Debug, Clone)]
pub struct Offer {
    pub title: String,
    pub kind: String,
    /// The planned file changes, or why the action cannot be applied.
    pub outcome: Result<Vec<Planned>, String>,
    /// The project root the generator's paths are relative to.
    pub root: PathBuf,
}

/// What the client can do with a workspace edit.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientSupport {
    /// `documentChanges` with the `create` resource operation.
    pub create_files: bool,
    /// Code actions with a `disabled` reason.
    pub disabled: bool,
}

/// Files larger than this get no generator actions: their request alone would be megabytes.
const MAX_GENERATOR_INPUT: usize = 1 << 20;

/// Runs every generator (built-in, then the project's) on `range` of the file at `path`.
pub fn offers(snapshot: &Snapshot, path: &Path, range: TextRange) -> Vec<Offer> {
    let Some(file) = snapshot.file(path) else {
        return Vec::new();
    };
    if snapshot.text(file).len() > MAX_GENERATOR_INPUT {
        return Vec::new();
    }
    let Some((root, request)) = generators::request_for(snapshot, file, range.start, range.end)
    else {
        return Vec::new();
    };
    let project = generators::project_cached(&root);
    let read = |p: &Path| match snapshot.file(p) {
        Some(file) => Some(snapshot.text(file).to_string()),
        None => std::fs::read_to_string(p)
            .ok()
            .or_else(|| p.exists().then(String::new)),
    };
    let mut offers = Vec::new();
    for generator in generators::builtins().iter().chain(project.iter()) {
        match generators::run(generator, &request) {
            Ok(None) => {}
            Ok(Some(proposal)) => {
                let kind = match proposal.kind {
                    Some(kind) if kind == "refactor" || kind.starts_with("refactor.") => kind,
                    _ => format!("refactor.krepis.{}", generator.name),
                };
                let outcome = match proposal.refused {
                    Some(reason) => Err(reason),
                    None => generators::plan(&root, &proposal.changes, read),
                };
                offers.push(Offer {
                    title: proposal.title,
                    kind,
                    outcome,
                    root: root.clone(),
                });
            }
            // A built-in generator that fails (on absurd input) offers nothing; a project's own
            // failure is the user's to see and fix.
            Err(_) if generator.builtin => {}
            Err(why) => offers.push(Offer {
                title: format!("Generator `{}`", generator.name),
                kind: format!("refactor.krepis.{}", generator.name),
                outcome: Err(format!("the generator failed: {why}")),
                root: root.clone(),
            }),
        }
    }
    offers
}

/// Refuses every offer whose changes would introduce a diagnostic, naming the first ones.
pub fn check(workspace: &mut Workspace, offers: &mut [Offer]) {
    for offer in offers.iter_mut() {
        let Ok(planned) = &offer.outcome else {
            continue;
        };
        let changes: Vec<(PathBuf, String)> = planned
            .iter()
            .map(|p| (p.path.clone(), p.after.clone()))
            .collect();
        let introduced = workspace.preview(&changes);
        let Some((path, first)) = introduced.first() else {
            continue;
        };
        let shown = path.strip_prefix(&offer.root).unwrap_or(path);
        let more = match introduced.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        offer.outcome = Err(format!(
            "it would introduce `{}` in {}: {}{more}",
            first.rule_name(),
            krepis_analyzer::config::slash_path(shown),
            first.message
        ));
    }
}

/// The code action for an offer; `versions` holds the open documents' versions.
pub fn code_action(
    offer: &Offer,
    unit: ColumnUnit,
    versions: &HashMap<PathBuf, i32>,
    support: ClientSupport,
) -> Option<CodeAction> {
    let kind = Some(CodeActionKind::from(offer.kind.clone()));
    let refuse = |reason: String| {
        if support.disabled {
            Some(CodeAction {
                title: offer.title.clone(),
                kind: kind.clone(),
                disabled: Some(CodeActionDisabled { reason }),
                ..Default::default()
            })
        } else {
            // Clients that cannot show a disabled action still get to read why: choosing the
            // action shows the reason.
            Some(CodeAction {
                title: format!("{} (unavailable: {reason})", offer.title),
                kind: kind.clone(),
                command: Some(Command {
                    title: offer.title.clone(),
                    command: crate::server::EXPLAIN_REFUSAL.into(),
                    arguments: Some(vec![serde_json::Value::String(reason)]),
                }),
                ..Default::default()
            })
        }
    };
    let planned = match &offer.outcome {
        Ok(planned) => planned,
        Err(reason) => return refuse(reason.clone()),
    };
    let creates = planned.iter().any(|p| p.before.is_none());
    if creates && !support.create_files {
        return refuse("this editor cannot create files from a code action".into());
    }
    let mut operations = Vec::new();
    for change in planned {
        let uri = Uri::from_file_path(&change.path)?;
        let (edits, version) = match &change.before {
            None => {
                operations.push(DocumentChangeOperation::Op(ResourceOp::Create(
                    CreateFile {
                        uri: uri.clone(),
                        options: Some(CreateFileOptions {
                            overwrite: Some(false),
                            ignore_if_exists: Some(false),
                        }),
                        annotation_id: None,
                    },
                )));
                let edit = TextEdit {
                    range: Range::default(),
                    new_text: change.after.clone(),
                };
                (vec![OneOf::Left(edit)], None)
            }
            Some(before) => {
                let text = Text::new(before, unit);
                let edits = change
                    .edits
                    .iter()
                    .map(|e| {
                        OneOf::Left(TextEdit {
                            range: text.range(TextRange::new(e.start, e.end)),
                            new_text: e.text.clone(),
                        })
                    })
                    .collect();
                (edits, versions.get(&change.path).copied())
            }
        };
        operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier { uri, version },
            edits,
        }));
    }
    Some(CodeAction {
        title: offer.title.clone(),
        kind,
        edit: Some(WorkspaceEdit {
            document_changes: Some(DocumentChanges::Operations(operations)),
            ..Default::default()
        }),
        ..Default::default()
    })
}
