//! Any bytes as a module's source: facts, every rule, fixes in rounds, positions.
//!
//! The text is checked beside a small domain module (so imports and context propagation across
//! files have something to find) under a path picked by the input's length, which leaves the
//! bytes themselves plain TypeScript for the seeds and the mutator.
#![no_main]

use krepis_analyzer::line_index::{ColumnUnit, LineIndex};
use krepis_analyzer::testing::fix_invariants;
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 4] = [
    "src/orders/application/input.ts",
    "src/orders/domain/input.ts",
    "src/orders/adapters/input.tsx",
    "src/orders/application/commands/input.js",
];

const SIBLING: &str = "import type { KrepisContext } from \"@krepis/core\";\n\
export async function load(ctx: KrepisContext, id: string): Promise<string> { return id; }\n\
export interface OrderStore { save(ctx: KrepisContext, id: string): Promise<void>; }\n";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = PATHS[data.len() % PATHS.len()];
    let files = [
        (path, text.as_ref()),
        ("src/orders/domain/order.ts", SIBLING),
    ];
    if let Err(failure) = fix_invariants(&files, None) {
        panic!("{failure}");
    }
    // Offsets and positions convert both ways at every character boundary.
    let index = LineIndex::new(&text);
    for (offset, _) in text.char_indices().step_by(7) {
        for unit in [ColumnUnit::Utf16, ColumnUnit::Utf8] {
            let position = index.position(&text, offset as u32, unit);
            let back = index.offset(&text, position, unit);
            let is_line_break_half =
                text[..offset].ends_with('\r') && text[offset..].starts_with('\n');
            if !is_line_break_half {
                assert_eq!(back, Some(offset as u32), "{position:?} in {unit:?}");
            }
        }
    }
});
