//! Combining fixes: the edits of many fixes, merged without conflicts.

use crate::diagnostic::{Diagnostic, TextEdit};

/// Rounds of fixing, at most: a fix can enable another (a parameter added, then the calls that
/// pass it), and fixes that keep offering more must still end.
pub const MAX_FIX_ROUNDS: usize = 10;

/// The edits of every fix that can be applied together, in diagnostic order.
///
/// A fix whose edits overlap an already chosen edit is left for a later round; an edit identical
/// to a chosen one (two fixes adding the same import) is merged rather than repeated.
pub fn merged_fix_edits(diagnostics: &[Diagnostic]) -> Vec<TextEdit> {
    merge_fixes(diagnostics, false).edits
}

/// Fixes merged for one round: the edits, and how many fixes they carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergedFixes {
    pub edits: Vec<TextEdit>,
    pub fixes: usize,
}

/// See [`merged_fix_edits`]; also counts the fixes that made it in. Unsafe fixes are taken only
/// when `unsafe_` is set.
pub fn merge_fixes(diagnostics: &[Diagnostic], unsafe_: bool) -> MergedFixes {
    merge_fixes_in_round(diagnostics, unsafe_, 0)
}

/// [`merge_fixes`] for round `round` (from 0) of fixing. After the first round, suppressions
/// are never removed: one that an earlier round's edits left silencing nothing was not among
/// the findings the user asked to fix.
pub fn merge_fixes_in_round(
    diagnostics: &[Diagnostic],
    unsafe_: bool,
    round: usize,
) -> MergedFixes {
    let mut chosen: Vec<TextEdit> = Vec::new();
    let mut fixes = 0;
    let fixable = diagnostics
        .iter()
        .filter(|d| round == 0 || d.rule != crate::catalog::RuleId::UnusedSuppression);
    for fix in fixable.filter_map(|d| d.fix_to_apply(unsafe_)) {
        let fresh: Vec<&TextEdit> = fix.edits.iter().filter(|e| !chosen.contains(e)).collect();
        let conflicts = fresh.iter().any(|edit| {
            chosen.iter().any(|c| {
                let (a, b) = (edit.range, c.range);
                // Two insertions at one point conflict too: their order would be a guess.
                a.start < b.end && b.start < a.end || a.start == b.start
            })
        });
        if !conflicts {
            chosen.extend(fresh.into_iter().cloned());
            fixes += 1;
        }
    }
    chosen.sort_by_key(|e| (e.range.start, e.range.end));
    MergedFixes {
        edits: chosen,
        fixes,
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::apply_edits;
    use crate::testing::check_source;

    #[test]
    fn one_round_fixes_many_functions_and_imports_once() {
        let text = "export async function a(id: string) {}\nexport async function b() {}\nasync function c(x: number, ctx: KrepisContext) {}\n";
        let diagnostics = check_source("src/a.ts", text);
        assert_eq!(diagnostics.len(), 3);
        let edits = super::merged_fix_edits(&diagnostics);
        let (fixed, _) = apply_edits(text, &edits);
        assert_eq!(
            fixed,
            "import type { KrepisContext } from \"@krepis/core\";\nexport async function a(ctx: KrepisContext, id: string) {}\nexport async function b(ctx: KrepisContext) {}\nasync function c(x: number, ctx: KrepisContext) {}\n"
        );
        // What is left is the move of `c`'s context, which only `krepis fix --unsafe` applies.
        let left = check_source("src/a.ts", &fixed);
        assert_eq!(left.len(), 1);
        assert!(!left[0].fix.as_ref().unwrap().is_safe());
        let (fixed, _) = apply_edits(&fixed, &super::merge_fixes(&left, true).edits);
        assert!(check_source("src/a.ts", &fixed).is_empty());
    }
}
