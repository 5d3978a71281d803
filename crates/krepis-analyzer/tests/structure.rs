//! The analyzer's modules form the stack `ARCHITECTURE.md` draws: each module uses only modules
//! of its own level or the levels below, and no two modules use each other, however indirectly.
//! The levels are read from the fenced `text` block under "Module stack" in `ARCHITECTURE.md`, so
//! the picture and the code cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The levels, top first: each a name and its modules.
fn levels() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section = text
        .split("### Module stack")
        .nth(1)
        .expect("ARCHITECTURE.md has a `### Module stack` section");
    let block = section
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the module stack is a ```text block");
    block
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut words = line.split_whitespace();
            let level = words.next().unwrap().trim_end_matches(':').to_string();
            (level, words.map(str::to_string).collect())
        })
        .collect()
}

/// The top-level modules of `src/` (a folder with a `mod.rs` is one module with its children).
fn module_files() -> BTreeMap<String, Vec<PathBuf>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let files = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
            out.insert(name, files);
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            out.entry(name).or_default().push(path);
        }
    }
    out
}

/// The source without comments and without test code (`#[cfg(test)]` items and `mod tests`).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::new();
    let mut skip_item = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            skip_item = true;
            continue;
        }
        if skip_item {
            // One attributed line (a `use`, a field, a short item) is all the tree has of these.
            skip_item = false;
            continue;
        }
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The first segment of every `crate::` path in `code`, with each item of a `crate::{…}` group.
fn crate_uses(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `krepis_crate::`, not a path of this crate
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        let name = ident(&group[i..]);
                        if !name.is_empty() && name != "self" {
                            out.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn uses() -> BTreeMap<String, BTreeSet<String>> {
    module_files()
        .into_iter()
        .map(|(module, files)| {
            let mut used = BTreeSet::new();
            for file in files {
                let code = code_of(&std::fs::read_to_string(&file).unwrap());
                used.extend(crate_uses(&code));
            }
            used.remove(&module);
            (module, used)
        })
        .collect()
}

#[test]
fn every_module_is_on_exactly_one_level_of_the_stack() {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (level, modules) in levels() {
        for module in modules {
            if let Some(other) = seen.insert(module.clone(), level.clone()) {
                panic!("`{module}` is on two levels: {other} and {level}");
            }
        }
    }
    let files: BTreeSet<String> = module_files().into_keys().collect();
    let listed: BTreeSet<String> = seen.into_keys().collect();
    let missing: Vec<_> = files.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&files).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "ARCHITECTURE.md's module stack is not src/: not listed {missing:?}, no such module {stale:?}"
    );
}

#[test]
fn modules_use_only_their_level_and_the_levels_below() {
    let levels = levels();
    let rank: BTreeMap<&str, (usize, &str)> = levels
        .iter()
        .enumerate()
        .flat_map(|(i, (level, modules))| {
            // Top first in the file: a higher level has a larger rank.
            let rank = levels.len() - i;
            modules
                .iter()
                .map(move |m| (m.as_str(), (rank, level.as_str())))
        })
        .collect();
    let mut upward = Vec::new();
    for (module, used) in uses() {
        let Some(&(mine, level)) = rank.get(module.as_str()) else {
            continue; // reported by the other test
        };
        for other in used {
            if let Some(&(theirs, their_level)) = rank.get(other.as_str())
                && theirs > mine
            {
                upward.push(format!("{module} ({level}) uses {other} ({their_level})"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "uses that point up the stack:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_modules_use_each_other() {
    let uses = uses();
    // Depth-first search for a back edge, reporting the cycle it closes.
    fn visit<'a>(
        module: &'a str,
        uses: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            let mut cycle: Vec<String> = path[at..].iter().map(|m| m.to_string()).collect();
            cycle.push(module.to_string());
            return Some(cycle);
        }
        if !done.insert(module) {
            return None;
        }
        path.push(module);
        for other in uses.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(other, uses, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in uses.keys() {
        if let Some(cycle) = visit(module, &uses, &mut Vec::new(), &mut done) {
            panic!("modules that use each other: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_scan_sees_grouped_and_nested_uses_and_skips_tests_and_comments() {
    let code = code_of(
        "use crate::{db::{Db, Project}, facts::Name};\n\
         use crate::rules::RuleId; // crate::workspace in a comment\n\
         #[cfg(test)]\n\
         use crate::testing;\n\
         fn f() { crate::config::xxhash(b\"\"); }\n\
         #[cfg(test)]\nmod tests { use crate::queries; }\n",
    );
    let found: Vec<String> = crate_uses(&code).into_iter().collect();
    assert_eq!(found, ["config", "db", "facts", "rules"]);
}
