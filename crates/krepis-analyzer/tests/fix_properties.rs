//! Properties of fixing, on generated projects: fixes keep a parsing file parsing, converge within
//! the rounds `krepis fix` allows, and a second pass over fixed text changes nothing.
//!
//! The generator (`testing::generated_project`) is the one the fuzz targets use; here proptest
//! drives it with a list of choices it can shrink.

use krepis_analyzer::facts;
use krepis_analyzer::testing::{fix_all, fix_invariants, generated_file, generated_project};
use proptest::prelude::*;

/// Turns bytes into the generator's choices (an index below `n`); past the end, always 0.
fn chooser(bytes: &[u8]) -> impl FnMut(usize) -> usize + '_ {
    let mut at = 0;
    move |n| {
        let byte = bytes.get(at).copied().unwrap_or(0) as usize;
        at += 1;
        if n <= 1 { 0 } else { byte % n }
    }
}

fn project(bytes: &[u8], raw: bool) -> Vec<(&'static str, String)> {
    generated_project(&mut chooser(bytes), raw)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn fixes_of_whole_statements_keep_parsing_and_converge(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let files = project(&bytes, false);
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        if let Err(failure) = fix_invariants(&refs, None) {
            panic!("{failure}\n--- project\n{files:#?}");
        }
    }

    #[test]
    fn fixes_of_fragment_soup_converge(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let files = project(&bytes, true);
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        if let Err(failure) = fix_invariants(&refs, None) {
            panic!("{failure}\n--- project\n{files:#?}");
        }
    }

    #[test]
    fn fixing_fixed_text_changes_nothing(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = generated_file(&mut chooser(&bytes), false);
        let path = "src/orders/application/a.ts";
        let once = fix_invariants(&[(path, &text)], None).map_err(TestCaseError::fail)?;
        prop_assert_eq!(once.len(), 1);
        let twice = fix_invariants(&[(path, &once[0].1)], None).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&once, &twice);
    }
}

/// The properties above are only worth something if the generator makes code that parses and
/// that the rules have fixes for: most generated files parse, and many get fixed.
#[test]
fn the_generator_makes_parsing_code_with_fixes() {
    let (mut parsed, mut fixed, total) = (0, 0, 200);
    for seed in 0..total {
        // A simple deterministic byte stream per seed.
        let bytes: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed * 40_503) >> 13) as u8)
            .collect();
        let text = generated_file(&mut chooser(&bytes), false);
        let path = std::path::Path::new("src/orders/application/a.ts");
        if facts::extract(path, &text).syntax_errors.is_empty() {
            parsed += 1;
            if fix_all("src/orders/application/a.ts", &text) != text {
                fixed += 1;
            }
        }
    }
    assert!(
        parsed * 10 >= total * 8,
        "{parsed} of {total} generated files parse"
    );
    assert!(
        fixed * 4 >= total,
        "{fixed} of {total} generated files get fixes"
    );
}
