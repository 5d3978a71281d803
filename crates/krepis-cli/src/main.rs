//! `krepis`: the command line over `krepis-analyzer`.

// The system allocator contends between the checking threads; jemalloc (mimalloc on Windows)
// does not, and packs a check's facts more tightly (see `allocator`).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(target_env = "msvc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod allocator;
mod baseline;
mod changed;
mod explain;
mod fix;
mod graph;
mod init;
mod output;
mod report;
mod run;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use krepis_analyzer::cache::Cache;
use krepis_analyzer::rules::{RuleId, closest_rule};
use krepis_analyzer::{LoadOptions, Workspace};

/// `krepis --version`: the version, and the engine that runs generators, custom rules and scripts.
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{} (engine: {})",
        env!("CARGO_PKG_VERSION"),
        krepis_kernel::engine::kernel().name()
    )
});

/// Architecture linter for TypeScript: Explicit Context and Trinity layering.
#[derive(Parser)]
#[command(name = "krepis", version = VERSION.as_str(), about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check files and folders (default: the current folder) and report every violation.
    Check(CheckArgs),
    /// Apply every available fix, through the journal (`krepis undo` restores).
    Fix {
        /// Files or folders to fix.
        paths: Vec<PathBuf>,
        /// Print the changes as a unified diff and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also apply unsafe fixes: those that may break code the analysis cannot see.
        #[arg(long = "unsafe")]
        unsafe_fixes: bool,
        /// Also fix the findings the baseline accepts (by default they are left as they are).
        #[arg(long)]
        no_baseline: bool,
        /// Use this configuration file for every file instead of looking for one.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Roll back the last journaled change (or the one given); run again to redo.
    Undo {
        /// The transaction to undo (see --list); default: the last one.
        id: Option<u64>,
        /// Show the history of journaled changes.
        #[arg(long)]
        list: bool,
        /// Undo even when files changed since.
        #[arg(long)]
        force: bool,
    },
    /// Accept today's findings: write krepis-baseline.json so `check` reports only new ones.
    Baseline {
        /// Files or folders whose findings to record (default: the current folder).
        paths: Vec<PathBuf>,
        /// Only drop the entries that match no finding any more; add nothing.
        #[arg(long)]
        prune: bool,
        /// The baseline file (default: krepis-baseline.json beside the configuration).
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// Use this configuration file for every file instead of looking for one.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Print the layer graph (or, with --modules, the module graph) as DOT or Mermaid.
    Graph(GraphArgs),
    /// Write one self-contained HTML page: layer diagram, module graph, cycles, metrics and
    /// every finding (new and baselined) with its code.
    Report(ReportArgs),
    /// Write a commented krepis.json for the layers the folder and file names show (never
    /// overwrites), and explain what it chose.
    Init {
        /// The project folder (default: the current folder).
        dir: Option<PathBuf>,
        /// Print the explanation and the file, and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Run a module's exported function in the sandboxed kernel, with a fresh context.
    Run {
        /// A TypeScript or JavaScript module.
        file: PathBuf,
        /// The exported function to call.
        #[arg(long, default_value = "main")]
        export: String,
        /// Wall-time limit; the script is stopped when it passes.
        #[arg(long, default_value_t = 5_000)]
        timeout_ms: u64,
        /// Heap limit of the engine instance.
        #[arg(long, default_value_t = 64)]
        max_heap_mb: usize,
        /// Output format: `text` (the value, or the error on stderr) or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Run the language server on stdin/stdout.
    Lsp,
    /// Print the documentation page of a rule.
    Explain {
        /// A rule name, like `explicit-context`.
        rule: String,
    },
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Files or folders to check.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Use this configuration file for every checked file instead of looking for one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not read or write the analysis cache.
    #[arg(long)]
    no_cache: bool,
    /// The baseline file (default: krepis-baseline.json beside the configuration, when there is one).
    #[arg(long, value_name = "FILE", conflicts_with = "no_baseline")]
    baseline: Option<PathBuf>,
    /// Report every finding, the baselined ones too.
    #[arg(long)]
    no_baseline: bool,
    /// Fail (exit 1) when the baseline has entries that match no finding any more.
    #[arg(long)]
    strict_baseline: bool,
    /// Check only what git says changed (and the files that import it, directly or not).
    #[arg(long)]
    changed: bool,
    /// With --changed: the commit to compare the working tree with.
    #[arg(long, value_name = "REF", default_value = "HEAD", requires = "changed")]
    base: String,
    /// With --changed: only the staged changes (what a pre-commit hook commits).
    #[arg(long, requires = "changed", conflicts_with = "base")]
    staged: bool,
    /// List each import of FILE with the file it resolved to (or why it did not), and check
    /// nothing.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["paths", "changed"])]
    explain_resolution: Option<PathBuf>,
}

#[derive(clap::Args)]
struct GraphArgs {
    /// Files or folders to draw.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
    /// Draw modules (grouped by layer) instead of layers.
    #[arg(long)]
    modules: bool,
    /// List every import cycle: each set of modules that import each other, in full.
    #[arg(long, conflicts_with_all = ["modules", "format"])]
    cycles: bool,
    /// Use this configuration file instead of looking for one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// Files or folders to report on (default: the current folder).
    paths: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(short, long, value_name = "FILE", default_value = "krepis-report.html")]
    output: PathBuf,
    /// Use this configuration file for every checked file instead of looking for one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The baseline file (default: krepis-baseline.json beside the configuration, when there is one).
    #[arg(long, value_name = "FILE", conflicts_with = "no_baseline")]
    baseline: Option<PathBuf>,
    /// Treat every finding as new, the baselined ones too.
    #[arg(long)]
    no_baseline: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    /// Graphviz DOT (`krepis graph | dot -Tsvg > layers.svg`).
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
}

/// How `check` prints its findings.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Code frames with the span underlined, and a summary.
    Text,
    /// One JSON object (a stable contract, see the README).
    Json,
    /// SARIF 2.1.0, for code scanning uploads.
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
}

fn main() -> ExitCode {
    allocator::no_huge_pages();
    let cli = Cli::parse();
    // Commands analyse code, and parsing recurses as deep as the code nests: run on a thread
    // with the analysis stack rather than the main thread's few megabytes.
    let worker = std::thread::Builder::new()
        .name("krepis".into())
        .stack_size(krepis_analyzer::facts::ANALYSIS_STACK_BYTES)
        .spawn(move || run(cli));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!(
                "error: krepis failed unexpectedly; please report this with the command you ran"
            );
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Fix {
            paths,
            dry_run,
            unsafe_fixes,
            no_baseline,
            config,
        } => fix::fix(fix::FixOptions {
            paths,
            config,
            dry_run,
            unsafe_fixes,
            no_baseline,
        }),
        Command::Undo { id, list, force } => fix::undo(fix::UndoOptions { id, list, force }),
        Command::Baseline {
            paths,
            prune,
            baseline,
            config,
        } => write_baseline(paths, prune, baseline, config),
        Command::Graph(args) => graph(args),
        Command::Report(args) => report(args),
        Command::Run {
            file,
            export,
            timeout_ms,
            max_heap_mb,
            format,
        } => run::run(run::RunOptions {
            file,
            export,
            timeout_ms,
            max_heap_mb,
            json: format == "json",
        }),
        Command::Init { dir, dry_run } => {
            init::init(&dir.unwrap_or_else(|| PathBuf::from(".")), dry_run)
        }
        Command::Explain { rule } => explain(&rule),
        Command::Lsp => match krepis_lsp::run_stdio() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: cannot start the language server: {error}");
                ExitCode::from(2)
            }
        },
    }
}

fn explain(name: &str) -> ExitCode {
    let rule = RuleId::from_name(name).or((name == "syntax-error").then_some(RuleId::SyntaxError));
    match rule {
        Some(rule) => {
            print!("{}", rule.docs());
            ExitCode::SUCCESS
        }
        None => {
            let mut message = format!("error: unknown rule `{name}`");
            if let Some(close) = closest_rule(name) {
                message.push_str(&format!("; did you mean `{}`?", close.as_str()));
            }
            let all: Vec<&str> = RuleId::CONFIGURABLE.iter().map(|r| r.as_str()).collect();
            eprintln!("{message}\nrules: {}", all.join(", "));
            ExitCode::from(2)
        }
    }
}

/// Loads a workspace, or prints why not (paths relative to `cwd`).
fn load(
    paths: &[PathBuf],
    config: Option<PathBuf>,
    cwd: &std::path::Path,
) -> Result<Workspace, ExitCode> {
    load_with_cache(paths, config, cwd, None, false)
}

/// Loads the workspace; `lean` keeps no texts once facts exist (for runs that do not edit).
fn load_with_cache(
    paths: &[PathBuf],
    config: Option<PathBuf>,
    cwd: &std::path::Path,
    cache: Option<Arc<Cache>>,
    lean: bool,
) -> Result<Workspace, ExitCode> {
    let options = LoadOptions {
        config_file: config,
        base_dir: cwd.to_path_buf(),
        cache,
        lean,
    };
    Workspace::load(paths, &options).map_err(|error| {
        // Paths in the message are absolute; people read them relative to where they are.
        let prefix = format!("{}{}", cwd.display(), std::path::MAIN_SEPARATOR);
        eprintln!("error: {}", error.to_string().replace(&prefix, ""));
        ExitCode::from(2)
    })
}

fn graph(args: GraphArgs) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let workspace = match load(&args.paths, args.config, &cwd) {
        Ok(workspace) => workspace,
        Err(code) => return code,
    };
    if args.cycles {
        print!("{}", graph::cycles_text(&workspace.cycle_sets(), &cwd));
        return ExitCode::SUCCESS;
    }
    let picture = workspace.graph();
    let text = match (args.format, args.modules) {
        (GraphFormat::Dot, false) => graph::layers_dot(&picture),
        (GraphFormat::Dot, true) => graph::modules_dot(&picture),
        (GraphFormat::Mermaid, false) => graph::layers_mermaid(&picture),
        (GraphFormat::Mermaid, true) => graph::modules_mermaid(&picture),
    };
    print!("{text}");
    ExitCode::SUCCESS
}

/// Loads the workspace and runs every rule, the project's own included (through the cache
/// unless `no_cache`), printing the workspace's notes.
fn analyse(
    paths: &[PathBuf],
    config: Option<PathBuf>,
    no_cache: bool,
    format: Format,
    cwd: &std::path::Path,
    changed: Option<&changed::Since<'_>>,
) -> Result<(Workspace, Vec<krepis_analyzer::FileResult>), ExitCode> {
    let cache = if no_cache {
        None
    } else {
        let opened = Cache::open(&fix::project_root(cwd));
        if let Some(note) = opened.note {
            eprintln!("note: {note}");
        }
        opened.cache.map(Arc::new)
    };
    // Nothing here edits: the texts are read again only for the files with findings.
    let mut workspace = load_with_cache(paths, config, cwd, cache.clone(), true)?;
    if let Some(since) = changed {
        match changed::changed(cwd, since) {
            Ok(changed::Changed::Files(files)) => {
                workspace.retain_changed(&files);
            }
            Ok(changed::Changed::Everything(settings)) => eprintln!(
                "note: {} changed: checking every file",
                output::display_path(&settings, cwd)
            ),
            Err(error) => {
                eprintln!("error: {error}");
                return Err(ExitCode::from(2));
            }
        }
    }
    // An unchanged tree with unchanged settings gives the results of the last run.
    let fingerprint = cache.as_ref().map(|_| workspace.fingerprint());
    let reused = match (&cache, fingerprint) {
        (Some(cache), Some(fingerprint)) => cache
            .run(fingerprint)
            .and_then(|run| workspace.results_from(run)),
        _ => None,
    };
    let results = match reused {
        Some(results) => results,
        None => {
            let total = workspace.checked_files().len();
            let bar = progress_bar(format, total);
            let results = workspace.check(&|| {
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
            });
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            // What the next run needs of the modules it will not look into.
            workspace.store_summaries();
            if let (Some(cache), Some(fingerprint)) = (&cache, fingerprint) {
                let run: Vec<_> = results
                    .iter()
                    .map(|r| (r.path.clone(), r.diagnostics.to_vec()))
                    .collect();
                cache.store_run(fingerprint, &run);
            }
            results
        }
    };
    if let Some(cache) = &cache {
        cache.flush();
    }
    // The project's own rules run after the cached part: their sources are not in the run key.
    let mut results = results;
    // They live in the checked project's `.krepis/rules/`, wherever the command runs from.
    let project = paths
        .first()
        .map_or_else(|| cwd.to_path_buf(), |path| cwd.join(path));
    krepis_kernel::custom_rules::apply(
        &krepis_kernel::custom_rules::load(&fix::project_root(&project)),
        &workspace,
        cwd,
        &mut results,
    );
    for note in &workspace.notes {
        eprintln!(
            "note: {}: {}",
            output::display_path(&note.path, cwd),
            note.message
        );
    }
    Ok((workspace, results))
}

fn absolute_from(cwd: &std::path::Path, path: Option<PathBuf>) -> Option<PathBuf> {
    path.map(|p| if p.is_absolute() { p } else { cwd.join(p) })
}

fn write_baseline(
    paths: Vec<PathBuf>,
    prune: bool,
    file: Option<PathBuf>,
    config: Option<PathBuf>,
) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let (workspace, results) = match analyse(&paths, config, true, Format::Json, &cwd, None) {
        Ok(analysed) => analysed,
        Err(code) => return code,
    };
    let file = absolute_from(&cwd, file);
    let code = baseline::write(&workspace, &results, file.as_deref(), prune, &cwd);
    std::mem::forget(results);
    std::mem::forget(workspace);
    code
}

/// Leaves out of `results` what the baseline accepts (nothing with `no_baseline`).
fn apply_baseline(
    workspace: &Workspace,
    results: &mut [krepis_analyzer::FileResult],
    no_baseline: bool,
    file: Option<PathBuf>,
    cwd: &std::path::Path,
) -> Result<baseline::Applied, ExitCode> {
    if no_baseline {
        return Ok(baseline::Applied::default());
    }
    let file = absolute_from(cwd, file);
    baseline::apply(workspace, results, file.as_deref()).map_err(|error| {
        eprintln!("error: {error}");
        ExitCode::from(2)
    })
}

/// `krepis report`: the findings of `check` (custom rules and baseline included) as a page.
fn report(args: ReportArgs) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let output = absolute_from(&cwd, Some(args.output)).unwrap_or_default();
    // A page that cannot be written is better known before the analysis than after it.
    if let Some(parent) = output.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        eprintln!(
            "error: cannot write {}: no such folder {}",
            output::display_path(&output, &cwd),
            output::display_path(parent, &cwd)
        );
        return ExitCode::from(2);
    }
    let (workspace, mut results) =
        match analyse(&args.paths, args.config, true, Format::Json, &cwd, None) {
            Ok(analysed) => analysed,
            Err(code) => return code,
        };
    let applied = match apply_baseline(
        &workspace,
        &mut results,
        args.no_baseline,
        args.baseline,
        &cwd,
    ) {
        Ok(applied) => applied,
        Err(code) => return code,
    };
    let code = report::write(&report::Inputs {
        workspace: &workspace,
        results: &results,
        applied: &applied,
        cwd: &cwd,
        output: &output,
    });
    std::mem::forget(results);
    std::mem::forget(workspace);
    code
}

fn check(args: CheckArgs) -> ExitCode {
    let started = Instant::now();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let since = changed::Since {
        base: &args.base,
        staged: args.staged,
    };
    let changed = args.changed.then_some(&since);
    if let Some(file) = &args.explain_resolution {
        let workspace = match load(std::slice::from_ref(file), args.config.clone(), &cwd) {
            Ok(workspace) => workspace,
            Err(code) => return code,
        };
        return explain::explain(&workspace, file, args.format, &cwd);
    }
    let (workspace, mut results) = match analyse(
        &args.paths,
        args.config.clone(),
        args.no_cache,
        args.format,
        &cwd,
        changed,
    ) {
        Ok(analysed) => analysed,
        Err(code) => return code,
    };
    let applied = match apply_baseline(
        &workspace,
        &mut results,
        args.no_baseline,
        args.baseline.clone(),
        &cwd,
    ) {
        Ok(applied) => applied,
        Err(code) => return code,
    };
    baseline::report_stale(&applied, &cwd, args.strict_baseline);
    let mut report = output::Report::new(&results, &cwd);
    report.baselined = applied.baselined;
    report.stale_baseline = applied.stale.iter().map(|(_, s)| s.count as usize).sum();
    report.unresolved_imports = workspace.unresolved_imports();
    if report.unresolved_imports > 0 && args.format == Format::Text {
        eprintln!(
            "note: {} local import{} name no file; `krepis check --explain-resolution FILE` shows what each import of a file resolved to",
            report.unresolved_imports,
            if report.unresolved_imports == 1 {
                ""
            } else {
                "s"
            }
        );
    }
    // Machine formats carry no colour: they go to stdout as they are, buffered.
    let flushed = match args.format {
        Format::Text => {
            let mut stdout = anstream::stdout();
            output::write_text(&mut stdout, &report, started.elapsed())
                .and_then(|()| stdout.flush())
        }
        format => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let written = match format {
                Format::Json => output::write_json(&mut stdout, &report),
                Format::Sarif => output::write_sarif(&mut stdout, &report),
                _ => output::write_github(&mut stdout, &report),
            };
            written.and_then(|()| stdout.flush())
        }
    };
    if let Err(error) = flushed
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write output: {error}");
        return ExitCode::from(2);
    }
    let code = if report.errors > 0 || args.strict_baseline && report.stale_baseline > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // Freeing hundreds of megabytes of facts one allocation at a time only delays the exit.
    std::mem::forget(report);
    std::mem::forget(results);
    std::mem::forget(workspace);
    code
}

/// A progress bar on a terminal for trees large enough to wait for; nothing when piped.
fn progress_bar(format: Format, total: usize) -> Option<indicatif::ProgressBar> {
    if format != Format::Text || total < 500 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} checking {pos}/{len} files {wide_bar} {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}
